# Sourced by insmod.sh and rmmod.sh: their shared command line, "--fake-root ROOT ARG", and the
# call log the tests read to see what was run. Sets $root and $arg.
# Usage: fake_command_line "FILE.ko|NAME" "$@"
fake_command_line() {
  what=$1
  shift
  if [ "${1:-}" != "--fake-root" ] || [ $# -lt 3 ]; then
    echo "usage: $0 --fake-root ROOT $what" >&2
    exit 2
  fi
  root=$2
  arg=$3
  echo "$(basename "$0" .sh) $arg" >>"$root/calls.log"
}
