#!/usr/bin/env bash
# Fake kpatch-build: reports what it was given, writes a tiny ELF .ko into the output dir.
set -euo pipefail
echo "args: $*"
echo "release=$SPLICER_KERNEL_RELEASE source=$SPLICER_KERNEL_SOURCE debuginfo=$SPLICER_DEBUGINFO"
echo "workdir=$SPLICER_WORK_DIR diff=$SPLICER_DIFF out=$SPLICER_OUTPUT_DIR module=$SPLICER_MODULE_NAME"
echo "leaked=${SPLICER_ADMIN_PASSWORD:-none}"
echo "Building original source" >&2
echo "Extracting new and modified ELF sections"
printf 'Building patch module: %s.ko\n' "${SPLICER_MODULE_NAME//_/-}"
name="${FAKE_KO_NAME:-${SPLICER_MODULE_NAME//_/-}}"
printf '\x7fELF\x02\x01\x01\x00fake livepatch module for %s\n' "$SPLICER_KERNEL_RELEASE" > "$SPLICER_OUTPUT_DIR/$name.ko"
echo "SUCCESS"
