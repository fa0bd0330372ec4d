#!/usr/bin/env bash
# Fake builder that never finishes, with a child process that also never finishes.
sleep 1000 &
echo $! > "$SPLICER_WORK_DIR/child.pid"
echo "compiling forever"
sleep 1000
