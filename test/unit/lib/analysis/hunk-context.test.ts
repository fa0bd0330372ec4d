import { describe, expect, it } from "vitest";
import { codeLines } from "@/lib/analysis/c-lexical";
import { continuesIntoHunk, readContext, type HunkContext } from "@/lib/analysis/hunk-context";

describe("readContext", () => {
  const table: { context: string; kind: HunkContext["kind"]; cut?: boolean; label?: string }[] = [
    { context: "", kind: "none" },
    { context: "out:", kind: "label", label: "out" },
    { context: "err_free: /* undo the allocation */", kind: "label", label: "err_free" },
    { context: "out_unlock: ;", kind: "label", label: "out_unlock" },
    { context: "EXPORT_SYMBOL_GPL(pnfs_generic_commit_pa", kind: "open", cut: true }, // 40 bytes: diff -p cut it
    { context: "EXPORT_SYMBOL(rdma_restrack_del);", kind: "closed" },
    { context: "static inline int acme_ok(void) { return 1; }", kind: "closed" },
    { context: "static __latent_entropy void run_timer_s", kind: "open", cut: true }, // 40 bytes
    { context: "static long gntalloc_ioctl_alloc(struct", kind: "open", cut: true }, // 39 bytes: a blank dropped after the cut
    { context: "static int ext4_mb_init_group(struct sup", kind: "open", cut: true },
    { context: "static int acme_probe(struct device *dev)", kind: "open", cut: false }, // 41 bytes: neither tool cuts there
    { context: "__be32", kind: "open", cut: false },
    { context: "static __always_inline void timekeeping_apply_adjustment(struct timekeeper *tk,", kind: "open", cut: true }, // 79 bytes: at git's limit (80, less a dropped blank), so possibly cut
  ];
  it.each(table)("$context → $kind", ({ context, kind, cut, label }) => {
    const c = readContext(context);
    expect(c.kind).toBe(kind);
    if (c.kind === "open") expect(c.cut).toBe(cut);
    if (c.kind === "label") expect(c.label).toBe(label);
  });

  it("a context known to be the whole line is not cut, whatever its length", () => {
    expect(readContext("static __latent_entropy void run_timer_softirq(struct softirq_action *h)", true)).toMatchObject({ kind: "open", cut: false });
  });
});

describe("continuesIntoHunk", () => {
  const table: { what: string; context: string; hunk: string; continues: boolean }[] = [
    { what: "a return type, then the name line at column 0", context: "__be32", hunk: "nfsd4_sequence(struct svc_rqst *rqstp, struct nfsd4_compound_state *cstate,\n\t\tunion nfsd4_op_u *u)\n{", continues: true },
    { what: "a return type, then a table's name line", context: "static const struct nla_policy", hunk: "br_mrp_policy[IFLA_BRIDGE_MRP_MAX + 1] = {\n\t[IFLA_BRIDGE_MRP_UNSPEC] = { .type = NLA_REJECT },", continues: true },
    { what: "a return type, but the hunk starts in a body", context: "static u8", hunk: "\t\t[BQ27XXX_REG_TTES] = 0x1c,\n\t\t[BQ27XXX_REG_TTECP] = INVALID_REG_ADDR,", continues: false },
    { what: "parameters that run on, then `{` at column 0", context: "struct sock *tcp_v4_syn_recv_sock(const struct sock *sk, struct sk_buff *skb,", hunk: "\t\t\t\t  struct request_sock *req,\n\t\t\t\t  bool *own_req)\n{", continues: true },
    { what: "parameters that run on, but the hunk starts in a statement", context: "static int acme_probe(struct device *dev,", hunk: "\tret = acme_setup(dev, id);\n\tif (ret)", continues: false },
    { what: "the tail of a call then #endif is not the end of a prototype", context: "static inline unsigned int calc_linear_pos(struct via82xx_modem *chip,", hunk: "\t\t       viadev->idx_table[idx].size, count);\n#endif\n\t\tif (count && size < count) {", continues: false },
    { what: "the end of a prototype, then the next declaration", context: "int acme_register(struct acme *a,", hunk: "\t\t  unsigned int flags);\nvoid acme_unregister(struct acme *a);", continues: true },
    { what: "an `if` closing with `) {` is not a function's brace", context: "static int acme_scan(struct acme *a,", hunk: "\t    a->count > 0) {\n\t\tacme_reset(a);", continues: false },
    { what: "a whole header line: the hunk is in its body", context: "static int acme_probe(struct device *dev)", hunk: "{\n\tint ret;", continues: false },
    { what: "a cut context is never continued", context: "static int ext4_mb_get_buddy_page_lock(s", hunk: "\t\text4_group_t group, struct ext4_buddy *e4b, gfp_t gfp)\n{", continues: false },
  ];
  it.each(table)("$what → $continues", ({ context, hunk, continues }) => {
    const c = readContext(context);
    if (c.kind !== "open") throw new Error(`expected an open context, got ${c.kind}`);
    const raw = hunk.split("\n");
    expect(continuesIntoHunk(c, codeLines(raw), raw)).toBe(continues);
  });
});
