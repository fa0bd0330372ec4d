import { describe, expect, it } from "vitest";
import { analysePatch, type Verdict } from "@/lib/analysis/analysis";
import { diffFixture } from "../../../helpers/fixtures";


interface Case {
  fixture: string;
  what: string;
  verdict: Verdict;
  /** Changed functions per file as "name:change". */
  functions: string[];
  /** Codes of the reasons (review and reboot findings), worst first. */
  reasons: string[];
  /** Codes of notes (impact none) that must be present. */
  notes?: string[];
  kinds?: string[];
}

const table: Case[] = [
  {
    fixture: "function-only-cmdline.diff",
    what: "a function-only fix in a git format-patch mail (fs/proc/cmdline.c)",
    verdict: "hot-patchable",
    functions: ["cmdline_proc_show:modified"],
    reasons: [],
    kinds: ["c"],
  },
  {
    fixture: "bounds-check-ipv4.diff",
    what: "added bounds checks in two functions of net/ipv4/igmp.c",
    verdict: "hot-patchable",
    functions: ["ip_mc_msfget:modified", "ip_mc_gsfget:modified"],
    reasons: [],
  },
  {
    fixture: "syscall-define.diff",
    what: "a check added to a SYSCALL_DEFINE2 body",
    verdict: "hot-patchable",
    functions: ["__do_sys_sethostname:modified"],
    reasons: [],
  },
  {
    fixture: "new-function-added.diff",
    what: "a new helper function and its caller",
    verdict: "hot-patchable",
    functions: ["cmdline_show_redacted:added", "cmdline_proc_show:modified"],
    reasons: [],
    notes: ["function_added"],
  },
  {
    fixture: "rename-with-change.diff",
    what: "a renamed .c file with a fix, and a pure header rename",
    verdict: "hot-patchable",
    functions: ["acme_rx_poll:modified"],
    reasons: [],
    notes: ["file_renamed", "file_renamed"],
    kinds: ["c", "header"],
  },
  {
    fixture: "userspace-selftest.diff",
    what: "a fix plus a new selftest under tools/",
    verdict: "hot-patchable",
    functions: ["ndisc_router_discovery:modified"],
    reasons: [],
    notes: ["userspace_only"],
    kinds: ["c", "other"],
  },
  {
    fixture: "struct-field-skbuff.diff",
    what: "struct sk_buff gains a bit field and retypes another",
    verdict: "requires-reboot",
    functions: [],
    reasons: ["struct_field_added", "struct_field_retyped"],
    kinds: ["header"],
  },
  {
    fixture: "static-table-initializer.diff",
    what: "a changed initializer in a static ctl_table",
    verdict: "requires-reboot",
    functions: [],
    reasons: ["global_data_changed"],
  },
  {
    fixture: "enum-inserted.diff",
    what: "an enumerator inserted mid-enum shifts later values",
    verdict: "requires-reboot",
    functions: [],
    reasons: ["enum_values_shifted"],
  },
  {
    fixture: "typedef-changed.diff",
    what: "a typedef widened",
    verdict: "requires-reboot",
    functions: [],
    reasons: ["typedef_changed"],
  },
  {
    fixture: "signature-changed.diff",
    what: "a global function gains a parameter and changes a parameter type",
    verdict: "requires-reboot",
    functions: ["sk_setsockopt_rcvbuf:modified"],
    reasons: ["signature_changed"],
  },
  {
    fixture: "asm-entry.diff",
    what: "an assembly change in the syscall entry",
    verdict: "requires-reboot",
    functions: [],
    reasons: ["assembly_changed"],
    kinds: ["asm"],
  },
  {
    fixture: "multi-file-mixed.diff",
    what: "docs + a struct field in a header + a function fix: the worst verdict wins",
    verdict: "requires-reboot",
    functions: ["__ip_rt_update_pmtu:modified"],
    reasons: ["struct_field_added"],
    notes: ["documentation_only"],
    kinds: ["doc", "header", "c"],
  },
  {
    fixture: "header-inline.diff",
    what: "a static inline body and a macro changed in a header",
    verdict: "needs-review",
    functions: ["skb_header_unclone:modified"],
    reasons: ["header_inline_changed", "header_macro_changed"],
  },
  {
    fixture: "init-function.diff",
    what: "an __init function changed",
    verdict: "needs-review",
    functions: ["chr_dev_init:modified"],
    reasons: ["init_code_changed"],
  },
  {
    fixture: "function-removed.diff",
    what: "a function removed and its caller changed",
    verdict: "needs-review",
    functions: ["acme_keys_legacy_read:removed", "acme_keys_read:modified"],
    reasons: ["function_removed"],
  },
  {
    fixture: "enum-appended.diff",
    what: "an enumerator appended with an explicit value",
    verdict: "needs-review",
    functions: [],
    reasons: ["enum_value_added", "no_function_changes"],
  },
  {
    fixture: "global-added-and-static-local.diff",
    what: "a new DEFINE_MUTEX and a changed static local initializer",
    verdict: "needs-review",
    functions: ["acme_report:modified"],
    reasons: ["global_variable_added", "static_local_changed"],
  },
  {
    fixture: "makefile-kconfig.diff",
    what: "Kconfig and Makefile only",
    verdict: "needs-review",
    functions: [],
    reasons: ["kconfig_changed", "build_file_changed", "no_function_changes"],
    kinds: ["build", "build"],
  },
  {
    fixture: "documentation-only.diff",
    what: "Documentation/ only: no effect, nothing to live patch",
    verdict: "needs-review",
    functions: [],
    reasons: ["no_function_changes"],
    notes: ["documentation_only"],
    kinds: ["doc"],
  },
  {
    fixture: "comment-only.diff",
    what: "a comment inside a function",
    verdict: "needs-review",
    functions: [],
    reasons: ["no_function_changes"],
    notes: ["comment_only"],
  },
  {
    fixture: "rename-only.diff",
    what: "a pure rename (similarity 100%, no hunks)",
    verdict: "needs-review",
    functions: [],
    reasons: ["no_function_changes"],
    notes: ["file_renamed"],
  },
];

describe("analysePatch on real-shaped kernel patches", () => {
  it.each(table)("$fixture: $what → $verdict", async (c) => {
    const analysis = await analysePatch(diffFixture(c.fixture));
    expect(analysis.verdict).toBe(c.verdict);
    expect(analysis.files.flatMap((f) => f.functions.map((fn) => `${fn.name}:${fn.change}`))).toEqual(c.functions);
    expect(analysis.functions).toEqual([...new Set(c.functions.map((f) => f.split(":")[0]))]);
    expect(analysis.reasons.map((r) => r.code)).toEqual(c.reasons);
    const notes = analysis.files.flatMap((f) => f.findings).filter((f) => f.impact === "none").map((f) => f.code);
    for (const note of c.notes ?? []) expect(notes).toContain(note);
    expect(notes.filter((n) => (c.notes ?? []).includes(n))).toHaveLength((c.notes ?? []).length);
    if (c.kinds) expect(analysis.files.map((f) => f.kind)).toEqual(c.kinds);
  });
});

describe("analysis details", () => {
  it("names the struct and the field, with the line of the new field", async () => {
    const a = await analysePatch(diffFixture("struct-field-skbuff.diff"));
    expect(a.reasons[0]).toMatchObject({
      code: "struct_field_added",
      impact: "reboot",
      file: "include/linux/skbuff.h",
      line: 860,
      symbol: "struct sk_buff",
      message: 'struct sk_buff gains field "livepatched": changes the layout of existing data',
    });
    expect(a.reasons[1].message).toBe(
      'struct sk_buff field "truesize" changes type from unsigned int to unsigned long: changes the layout of existing data',
    );
  });

  it("counts files, hunks and lines, and reports each function at its first changed new line", async () => {
    const a = await analysePatch(diffFixture("bounds-check-ipv4.diff"));
    expect(a.stats).toEqual({ files: 1, hunks: 2, added: 3, removed: 1 });
    expect(a.files[0]).toMatchObject({ path: "net/ipv4/igmp.c", status: "modified", added: 3, removed: 1 });
    expect(a.files[0].functions).toEqual([
      { name: "ip_mc_msfget", change: "modified", line: 2573 },
      { name: "ip_mc_gsfget", change: "modified", line: 2617 },
    ]);
  });

  it("gives a removed function the line it had in the old file", async () => {
    const a = await analysePatch(diffFixture("function-removed.diff"));
    expect(a.files[0].functions[0]).toEqual({ name: "acme_keys_legacy_read", change: "removed", line: 91 });
  });

  it("reports renames with the old path", async () => {
    const a = await analysePatch(diffFixture("rename-with-change.diff"));
    expect(a.files.map((f) => [f.oldPath, f.path, f.status])).toEqual([
      ["drivers/net/ethernet/acme/acme_main.c", "drivers/net/ethernet/acme/acme_core.c", "renamed"],
      ["drivers/net/ethernet/acme/acme_util.h", "drivers/net/ethernet/acme/acme_helpers.h", "renamed"],
    ]);
  });

  it("puts reboot reasons before review reasons", async () => {
    const diff = diffFixture("header-inline.diff") + diffFixture("struct-field-skbuff.diff").replace(/^diff --git .*\n/, "diff --git a/include/linux/skbuff2.h b/include/linux/skbuff2.h\n").replace(/skbuff\.h/g, "skbuff2.h");
    const a = await analysePatch(diff);
    expect(a.verdict).toBe("requires-reboot");
    expect(a.reasons.map((r) => r.impact)).toEqual(["reboot", "reboot", "review", "review"]);
  });

  it("explains the signature change with old and new types", async () => {
    const a = await analysePatch(diffFixture("signature-changed.diff"));
    expect(a.reasons[0].message).toContain("from int (struct sock*, int) to int (struct sock*, unsigned int, bool)");
  });
});
