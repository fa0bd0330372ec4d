import { describe, expect, it } from "vitest";
import { BadRequestError } from "@/lib/errors";
import { parsePatch, PatchInputError, type PatchInputErrorCode } from "@/lib/analysis/analysis";

const good = `diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c
index a6f76121955f..2c3f1a9e0b7d 100644
--- a/fs/proc/cmdline.c
+++ b/fs/proc/cmdline.c
@@ -6,3 +6,3 @@ static int cmdline_proc_show(struct seq_file *m, void *v)
 {
-	seq_puts(m, saved_command_line);
+	seq_puts(m, boot_command_line);
 	seq_putc(m, '\\n');
`;

function refusal(text: string, opts?: { maxBytes?: number }): PatchInputError {
  try {
    parsePatch(text, opts);
  } catch (err) {
    if (err instanceof PatchInputError) return err;
    throw err;
  }
  throw new Error("expected the diff to be refused");
}

const bad: { what: string; code: PatchInputErrorCode; text: string; message: RegExp }[] = [
  { what: "empty", code: "empty", text: "", message: /empty/ },
  { what: "only whitespace", code: "empty", text: "  \n\n\t\n", message: /empty/ },
  { what: "prose", code: "not_a_diff", text: "Please fix the bug in igmp.c, thanks!\n", message: /not a unified diff/ },
  {
    what: "a context diff",
    code: "not_a_diff",
    text: "*** fs/proc/cmdline.c.orig\n--- fs/proc/cmdline.c\n***************\n*** 6,8 ****\n",
    message: /not a unified diff/,
  },
  {
    what: "a git binary patch",
    code: "binary",
    text: "diff --git a/firmware/acme.bin b/firmware/acme.bin\nindex 1234567..89abcde 100644\nGIT binary patch\nliteral 12\nTcmZ?wbhEHbWMp7qWCQ>J1Oou8\n\nliteral 0\nHcmV?d00001\n\n",
    message: /binary file/,
  },
  {
    what: "Binary files differ",
    code: "binary",
    text: "diff --git a/firmware/acme.bin b/firmware/acme.bin\nindex 1234567..89abcde 100644\nBinary files a/firmware/acme.bin and b/firmware/acme.bin differ\n",
    message: /line 3: .*binary/,
  },
  { what: "an absolute path", code: "absolute_path", text: good.replace(/--- a\/fs\/proc\/cmdline.c/, "--- /etc/passwd"), message: /"\/etc\/passwd" is absolute/ },
  {
    what: "a path escaping the tree",
    code: "path_escapes_tree",
    text: good.replace(/\+\+\+ b\/fs\/proc\/cmdline.c/, "+++ b/../../etc/shadow"),
    message: /uses "\.\."/,
  },
  {
    what: "a rename into ..",
    code: "path_escapes_tree",
    text: "diff --git a/x.c b/y.c\nsimilarity index 100%\nrename from x.c\nrename to ../y.c\n",
    message: /uses "\.\."/,
  },
  { what: "a hunk with more lines than its header", code: "hunk_mismatch", text: good.replace("@@ -6,3 +6,3 @@", "@@ -6,2 +6,2 @@"), message: /do not add up/ },
  {
    what: "a truncated hunk",
    code: "hunk_mismatch",
    text: good.replace("@@ -6,3 +6,3 @@", "@@ -6,5 +6,5 @@"),
    message: /do not add up|ends before/,
  },
  {
    what: "a hunk cut off by the next file",
    code: "hunk_mismatch",
    text: good.replace("@@ -6,3 +6,3 @@", "@@ -6,4 +6,4 @@") + good,
    message: /ends before/,
  },
  { what: "a garbled hunk header", code: "malformed_diff", text: good.replace("@@ -6,3 +6,3 @@", "@@ -six +6 @@"), message: /not a hunk header/ },
  {
    what: "a hunk line without a prefix",
    code: "malformed_diff",
    text: good.replace("+\tseq_puts(m, boot_command_line);", "*\tseq_puts(m, boot_command_line);"),
    message: /does not parse/,
  },
  { what: "--- without +++", code: "missing_file_header", text: good.replace(/^diff --git.*\nindex.*\n/, "").replace(/\+\+\+ b\/fs\/proc\/cmdline.c\n/, ""), message: /missing "\+\+\+ \.\.\."/ },
  { what: "hunks without file names", code: "missing_file_header", text: good.split("\n").slice(4).join("\n"), message: /no `---`\/`\+\+\+` file header/ },
  {
    what: "overlapping hunks",
    code: "malformed_diff",
    text: good + good.split("\n").slice(4).join("\n").replace("@@ -6,3 +6,3 @@", "@@ -7,3 +7,3 @@"),
    message: /overlaps/,
  },
  { what: "a control character in a path", code: "invalid_path", text: good.replace(/\+\+\+ b\/fs\/proc\/cmdline.c/, "+++ b/fs/proc/cmd\u0007line.c"), message: /control characters/ },
];

describe("parsePatch refuses bad input with a typed error", () => {
  it.each(bad)("$what → $code", ({ text, code, message }) => {
    const err = refusal(text);
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err).toBeInstanceOf(BadRequestError); // the HTTP layer answers 400 with the code
    expect(err.status).toBe(400);
  });

  it("refuses a diff over the size limit, and the limit is configurable", () => {
    const big = good + " ".repeat(2 * 1024 * 1024);
    expect(refusal(big).code).toBe("too_large");
    expect(refusal(good, { maxBytes: 100 })).toMatchObject({ code: "too_large", message: `the diff is ${Buffer.byteLength(good)} bytes; the limit is 100 bytes` });
    expect(() => parsePatch(good, { maxBytes: 10_000 })).not.toThrow();
  });

  it("points at the line of the bad hunk", () => {
    expect(refusal(good.replace("@@ -6,3 +6,3 @@", "@@ -6,2 +6,2 @@")).line).toBe(5);
  });
});

describe("parsePatch reads good diffs", () => {
  it("gives tree paths, hunk counts and git's function context", () => {
    const { files } = parsePatch(good);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ path: "fs/proc/cmdline.c", status: "modified", added: 1, removed: 1 });
    expect(files[0].hunks[0]).toMatchObject({ oldStart: 6, oldLines: 3, newStart: 6, newLines: 3, context: "static int cmdline_proc_show(struct seq_file *m, void *v)", diffLine: 5 });
  });

  it("accepts CRLF line ends and a format-patch mail around the diff", () => {
    const mail = `From 1234 Mon Sep 17 00:00:00 2001\nSubject: [PATCH] fix\n\n---\n fs/proc/cmdline.c | 2 +-\n\n${good}-- \n2.39.5\n\n`;
    expect(parsePatch(mail.replace(/\n/g, "\r\n")).files[0].hunks[0].lines).toHaveLength(4);
  });

  it("accepts quilt-style paths (patch -p1) and created and deleted files", () => {
    const quilt = good.replace(/^diff --git.*\nindex.*\n/, "").replace("--- a/", "--- linux-6.1.orig/").replace("+++ b/", "+++ linux-6.1/");
    expect(parsePatch(quilt).files[0].path).toBe("fs/proc/cmdline.c");
    const created = "diff --git a/lib/acme.c b/lib/acme.c\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/lib/acme.c\n@@ -0,0 +1 @@\n+int acme;\n";
    expect(parsePatch(created).files[0]).toMatchObject({ path: "lib/acme.c", status: "added", added: 1 });
    const deleted = "diff --git a/lib/acme.c b/lib/acme.c\ndeleted file mode 100644\nindex 1111111..0000000\n--- a/lib/acme.c\n+++ /dev/null\n@@ -1 +0,0 @@\n-int acme;\n";
    expect(parsePatch(deleted).files[0]).toMatchObject({ path: "lib/acme.c", status: "deleted", removed: 1 });
  });
});
