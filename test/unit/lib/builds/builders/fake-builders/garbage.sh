#!/usr/bin/env bash
# Fake builder that exits 0 with bad output; the mode is its first argument.
mode="$1"
echo "garbage mode $mode"
case "$mode" in
  not-elf) echo "this is not a kernel module" > "$SPLICER_OUTPUT_DIR/livepatch-x.ko" ;;
  empty) : > "$SPLICER_OUTPUT_DIR/livepatch-x.ko" ;;
  two) printf '\x7fELF\x02\x01\x01\x00aaaaaaaaaaaa' > "$SPLICER_OUTPUT_DIR/a.ko"
       printf '\x7fELF\x02\x01\x01\x00bbbbbbbbbbbb' > "$SPLICER_OUTPUT_DIR/b.ko" ;;
  bad-name) printf '\x7fELF\x02\x01\x01\x00cccccccccccc' > "$SPLICER_OUTPUT_DIR/live patch.ko" ;;
  none) echo "nothing written" ;;
esac
exit 0
