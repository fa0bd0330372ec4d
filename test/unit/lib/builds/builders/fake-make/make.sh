#!/bin/sh
# A stand-in for `make -C <headers> M=<dir> modules`: first argument is the behaviour.
mode="$1"; shift
headers=""; dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -C) headers="$2"; shift ;;
    M=*) dir="${1#M=}" ;;
  esac
  shift
done
echo "$headers" >> "$dir/../make-calls"
name=$(sed -n 's/^obj-m := \(.*\)\.o$/\1/p' "$dir/Kbuild")
echo "make: Entering directory '$headers'"
echo "  CC [M]  $dir/$name.o"
case "$mode" in
  ok)
    printf '\177ELF fake module %s vermagic=%s\n' "$name" "$(basename "$headers")" > "$dir/$name.ko"
    echo "  LD [M]  $dir/$name.ko" ;;
  undefined)
    echo "ERROR: modpost: \"secret_symbol\" [$dir/$name.ko] undefined!" >&2
    echo "make[2]: *** [scripts/Makefile.modpost:126: $dir/Module.symvers] Error 1" >&2
    exit 2 ;;
  fail)
    echo "$dir/$name.c:12:9: error: implicit declaration of function 'nope'" >&2
    exit 2 ;;
  hang)
    sleep 30 &
    echo $! > "$dir/../child-pid"
    wait ;;
esac
