#!/bin/sh
# Fake insmod for tests: "loads" a fake .ko into a fake sysfs tree the way the kernel would
# (see index.ts, which plays the kernel's part of completing transitions).
# Usage: insmod.sh --fake-root ROOT FILE.ko
# The .ko's first line picks the behaviour: "FAKE-LIVEPATCH mode=normal|refuse|stall|revert-stall".
set -u
. "$(dirname "$0")/command-line.sh"
fake_command_line "FILE.ko" "$@"
ko=$arg
if [ ! -r "$ko" ]; then
  echo "insmod: ERROR: could not load module $ko: No such file or directory" >&2
  exit 1
fi
name=$(basename "$ko" .ko)
mode=$(head -n 1 "$ko" | sed -n 's/^FAKE-LIVEPATCH mode=\([a-z-]*\).*$/\1/p')
if [ -z "$mode" ]; then
  echo "insmod: ERROR: could not insert module $ko: Invalid module format" >&2
  exit 1
fi
if [ -d "$root/sys/module/$name" ]; then
  echo "insmod: ERROR: could not insert module $ko: File exists" >&2
  exit 1
fi
if [ "$mode" = refuse ]; then
  echo "insmod: ERROR: could not insert module $ko: Invalid parameters" >&2
  exit 1
fi
mkdir -p "$root/kernel" "$root/sys/module/$name" "$root/sys/kernel/livepatch/$name"
echo "$mode" >"$root/kernel/$name.mode"
echo 1 >"$root/kernel/$name.target"
# The kernel sets every task's patch_state as the transition starts (before insmod returns); in
# stall mode the blocking task stays unpatched (0).
blocker=$(cat "$root/kernel/blocker" 2>/dev/null || true)
for d in "$root"/proc/[0-9]*; do
  [ -f "$d/patch_state" ] || continue
  if [ "$mode" = stall ] && [ "${d##*/}" = "$blocker" ]; then state=0; else state=1; fi
  echo "$state" >"$d/patch_state"
done
# A livepatch starts enabled and in transition: the kernel switches tasks over one by one.
echo 1 >"$root/sys/kernel/livepatch/$name/transition"
echo 1 >"$root/sys/kernel/livepatch/$name/enabled"
exit 0
