import { describe, expect, it } from "vitest";
import { alreadyApplied, applyFileDiff, HunkDoesNotApply, reverseFileDiff } from "@/lib/builds/kbuild/apply";
import { parsePatch } from "@/lib/analysis/analysis";

const PRE = Array.from({ length: 40 }, (_, i) => `line ${i + 1}`).join("\n") + "\n";
const DIFF = `--- a/x.c
+++ b/x.c
@@ -2,3 +2,4 @@
 line 2
+added after 2
 line 3
 line 4
@@ -30,3 +31,3 @@
 line 30
-line 31
+changed 31
 line 32
`;

describe("applying a file's hunks", () => {
  it("applies every hunk, later ones shifted by earlier ones", () => {
    const out = applyFileDiff(PRE, parsePatch(DIFF).files[0]!);
    expect(out.split("\n").slice(0, 4)).toEqual(["line 1", "line 2", "added after 2", "line 3"]);
    expect(out).toContain("line 30\nchanged 31\nline 32\n");
    expect(out).not.toContain("line 31\n");
  });

  it("names the file and the hunk that does not apply", () => {
    const other = PRE.replace("line 31\n", "line thirty-one\n");
    let err: unknown;
    try {
      applyFileDiff(other, parsePatch(DIFF).files[0]!);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HunkDoesNotApply);
    expect((err as Error).message).toBe("hunk 2 of x.c (@@ -30,3 +31,3 @@) does not apply to this kernel's source: its context or removed lines are not there");
  });
});

describe("a release that already has the patch", () => {
  const file = () => parsePatch(DIFF).files[0]!;

  it("is recognised: the reverse applies to the patched text and gives back the original", () => {
    const post = applyFileDiff(PRE, file());
    expect(alreadyApplied(post, file())).toBe(true);
    expect(applyFileDiff(post, reverseFileDiff(file()))).toBe(PRE);
  });

  it("is not claimed for the unpatched text, nor for text the patch does not fit either way", () => {
    expect(alreadyApplied(PRE, file())).toBe(false);
    expect(alreadyApplied(PRE.replace("line 31\n", "line thirty-one\n"), file())).toBe(false);
  });
});
