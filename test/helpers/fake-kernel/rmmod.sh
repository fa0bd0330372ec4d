#!/bin/sh
# Fake rmmod for tests: unloads a module from the fake sysfs tree, refusing as the kernel does
# while the livepatch is still enabled or in transition.
# Usage: rmmod.sh --fake-root ROOT NAME
set -u
. "$(dirname "$0")/command-line.sh"
fake_command_line "NAME" "$@"
name=$arg
if [ ! -d "$root/sys/module/$name" ]; then
  echo "rmmod: ERROR: Module $name is not currently loaded" >&2
  exit 1
fi
lp="$root/sys/kernel/livepatch/$name"
if [ -d "$lp" ]; then
  enabled=$(cat "$lp/enabled" 2>/dev/null)
  # target differs from enabled: a write the fake kernel has not acted on yet (a real kernel
  # starts the transition inside the write), so the module is as busy as in a transition.
  target=$(cat "$root/kernel/$name.target" 2>/dev/null || echo "$enabled")
  if [ "$enabled" = 1 ] || [ "$target" != "$enabled" ] || [ "$(cat "$lp/transition" 2>/dev/null)" = 1 ]; then
    echo "rmmod: ERROR: Module $name is in use" >&2
    exit 1
  fi
fi
rm -rf "$lp" "$root/sys/module/$name" "$root/kernel/$name.mode" "$root/kernel/$name.target"
exit 0
