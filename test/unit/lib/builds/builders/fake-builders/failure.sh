#!/usr/bin/env bash
# Fake kpatch-build that fails like a compiler error.
echo "Building original source"
echo "Building patched source"
echo "kernel/fork.c:1234:5: error: 'foo' undeclared (first use in this function)" >&2
echo "ERROR: patched kernel build failed." >&2
exit 2
