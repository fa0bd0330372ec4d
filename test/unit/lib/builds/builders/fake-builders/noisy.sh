#!/usr/bin/env bash
# Fake builder with far more output than the log cap, then a failure.
for i in $(seq 1 2000); do echo "line $i of noisy build output"; done
echo "final error line" >&2
exit 1
