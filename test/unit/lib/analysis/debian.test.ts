// Debian's two latest security updates of linux-source-6.1, staged as the plain diff of the two
// source versions (test/fixtures/debian/README.md says how they were made). Before the fixes
// the ext4 update was "needs-review" (the function context `ext4_mb_load_buddy_gfp(struct
// super_bloc`, whose return type is on the line above, was not read) and the nfsd update was
// "requires-reboot" (the parameter `rqstp` of `nfsd4_sequence`, whose header starts with
// `__be32` on a line of its own, was taken for a global variable).
import { describe, expect, it } from "vitest";
import { analysePatch } from "@/lib/analysis/analysis";
import { debianFixture } from "../../../helpers/fixtures";


describe("Debian's linux-source-6.1 security updates", () => {
  it("6.1.192-1 → 6.1.192-2 (fs/ext4/mballoc.c) changes two functions and is hot-patchable", async () => {
    const a = await analysePatch(debianFixture("6.1.192-1_6.1.192-2.diff"));
    expect(a.files[0]).toMatchObject({ path: "fs/ext4/mballoc.c", kind: "c", added: 14, removed: 14 });
    expect(a.files[0].functions).toEqual([
      { name: "ext4_mb_get_buddy_page_lock", change: "modified", line: 1378 },
      { name: "ext4_mb_load_buddy_gfp", change: "modified", line: 1536 },
    ]);
    expect(a.stats).toMatchObject({ files: 1, hunks: 7 });
    expect(a.reasons).toEqual([]);
    expect(a.verdict).toBe("hot-patchable");
  });

  it("6.1.192-2 → 6.1.192-3 (fs/nfsd/nfs4state.c, CVE-2026-99362) changes nfsd4_sequence and is hot-patchable", async () => {
    const a = await analysePatch(debianFixture("6.1.192-2_6.1.192-3.diff"));
    expect(a.files[0]).toMatchObject({ path: "fs/nfsd/nfs4state.c", kind: "c", added: 18, removed: 1 });
    expect(a.files[0].functions).toEqual([{ name: "nfsd4_sequence", change: "modified", line: 4050 }]);
    expect(a.files[0].findings).toEqual([]);
    expect(a.verdict).toBe("hot-patchable");
  });
});
