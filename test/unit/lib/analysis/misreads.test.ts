// Misreads of the staging-time analysis found on real patches (Debian's linux-source-6.1
// updates and the 6.1.187 → 6.1.190 stable diffs, see fixtures/stable/README.md). Each row
// was read wrongly before the fix: a hunk dropped as a comment, a name git had cut short
// taken as the function, a parameter taken for a global variable, a label for a definition.
import { describe, expect, it } from "vitest";
import { analysePatch, type Verdict } from "@/lib/analysis/analysis";
import { unifiedDiff } from "../../../helpers/unified-diff";
import { diffFixture } from "../../../helpers/fixtures";

const stable = (name: string) => diffFixture(`stable/${name}`);

interface Row {
  what: string;
  diff: string;
  verdict: Verdict;
  /** Changed functions as "name:change", in file order. */
  functions: string[];
  /** Codes of the reasons (review and reboot findings), worst first. */
  reasons: string[];
  /** Codes of the notes (impact none), in file order. */
  notes?: string[];
  /** Each must match the message of some finding. */
  messages?: RegExp[];
}

const rows: Row[] = [
  // --- string literals ------------------------------------------------------------------
  {
    what: "a hunk that only changes a format string is a change of its function, not a comment (net/packet/af_packet.c)",
    diff: stable("af_packet-string-literal.diff"),
    verdict: "hot-patchable",
    functions: ["tpacket_parse_header:modified"],
    reasons: [],
    notes: [],
  },
  {
    what: "a space added inside a string literal is a change",
    diff: unifiedDiff("fs/proc/cmdline.c", [
      {
        at: [6, 6],
        context: "static int cmdline_proc_show(struct seq_file *m, void *v)",
        body: `
 {
-	seq_printf(m, "%s marker\\n", saved_command_line);
+	seq_printf(m, "%s  marker\\n", saved_command_line);
 	return 0;`,
      },
    ]),
    verdict: "hot-patchable",
    functions: ["cmdline_proc_show:modified"],
    reasons: [],
    notes: [],
  },
  {
    what: "a #define whose string value changes is a macro change, not a comment",
    diff: unifiedDiff("drivers/net/ethernet/acme/acme_main.c", [{ at: [20, 20], body: ` #define DRV_NAME "acme"\n-#define DRV_VERSION "1.0"\n+#define DRV_VERSION "1.1"` }]),
    verdict: "needs-review",
    functions: [],
    reasons: ["macro_changed", "no_function_changes"],
    notes: [],
  },
  {
    what: "a hunk inside a kernel-doc comment, shown without its /*, changes nothing (drivers/mtd/ubi/build.c)",
    diff: stable("ubi-kerneldoc.diff"),
    verdict: "needs-review",
    functions: [],
    reasons: ["no_function_changes"],
    notes: ["comment_only"],
  },

  // --- function contexts cut short --------------------------------------------------------
  {
    what: "a context cut mid-name (`…void timekeeping_`) is not taken as the function's name (kernel/time/timekeeping.c)",
    diff: stable("timekeeping-cut-name.diff"),
    verdict: "needs-review",
    functions: [],
    reasons: ["unrecognised_change"],
    notes: ["comment_only"],
    messages: [/context "static __always_inline void timekeeping_" is cut short/],
  },
  {
    what: "a cut context is completed from the line an earlier hunk shows (run_timer_s → run_timer_softirq)",
    diff: unifiedDiff("kernel/time/timer.c", [
      {
        at: [2020, 2020],
        context: "static inline void __run_timers(struct timer_base *base)",
        body: `
 /*
  * This function runs timers and the timer-tq in bottom half context.
  */
 static __latent_entropy void run_timer_softirq(struct softirq_action *h)
 {
 	struct timer_base *base = this_cpu_ptr(&timer_bases[BASE_STD]);
 
-	__run_timers(base);
+	if (base)
+		__run_timers(base);`,
      },
      {
        at: [2032, 2033],
        context: "static __latent_entropy void run_timer_s",
        body: `
 	if (IS_ENABLED(CONFIG_NO_HZ_COMMON))
 		__run_timers(this_cpu_ptr(&timer_bases[BASE_DEF]));
-	return;
+	barrier();
 }`,
      },
    ]),
    verdict: "hot-patchable",
    functions: ["run_timer_softirq:modified"],
    reasons: [],
  },
  {
    what: "a context cut in its parameters still names its function, ending in a keyword (`(struct`)",
    diff: unifiedDiff("drivers/xen/gntalloc.c", [
      {
        at: [272, 272],
        context: "static long gntalloc_ioctl_alloc(struct",
        body: `
 	int rc = 0;
 	struct ioctl_gntalloc_alloc_gref op;
 	uint32_t *gref_ids;
+	unsigned int limit_snapshot;
 
 	pr_debug("%s: priv %p\\n", __func__, priv);`,
      },
    ]),
    verdict: "hot-patchable",
    functions: ["gntalloc_ioctl_alloc:modified"],
    reasons: [],
  },
  {
    what: "a table whose name git cut short, with elements written at column 0 (drivers/crypto/allwinner/sun8i-ce)",
    diff: stable("sun8i-ce-table-at-column-0.diff"),
    verdict: "needs-review",
    functions: [],
    reasons: ["unrecognised_change"],
    messages: [/context "static struct sun8i_ce_alg_template ce_a" is cut short/],
  },
  {
    what: "BPF_CALL_5 in a cut context defines the function named by its first argument",
    diff: unifiedDiff("kernel/bpf/task_iter.c", [
      {
        at: [790, 790],
        context: "BPF_CALL_5(bpf_find_vma, struct task_str",
        body: `
 	if (flags)
 		return -EINVAL;
 
-	if (!task)
+	if (!task || !callback_fn)
 		return -ENOENT;`,
      },
    ]),
    verdict: "hot-patchable",
    functions: ["bpf_find_vma:modified"],
    reasons: [],
  },

  // --- return types on a line of their own -------------------------------------------------
  {
    what: "a context that is the name line of a header (its type on the line above) names the function, not its first parameter (drivers/hwmon/max6621.c)",
    diff: stable("max6621-name-line-context.diff"),
    verdict: "needs-review",
    functions: ["max6621_read:modified"],
    reasons: ["macro_changed", "macro_changed"],
  },
  {
    what: "a whole name line as context is a function, not a top-level macro call",
    diff: unifiedDiff("drivers/acme/acme.c", [
      { at: [40, 40], context: "acme_read(struct acme *a, long *v)", body: ` 	int ret;\n \n-	ret = 0;\n+	ret = -EIO;\n 	return ret;` },
    ]),
    verdict: "hot-patchable",
    functions: ["acme_read:modified"],
    reasons: [],
  },
  {
    what: "a return type alone as context (`static netdev_tx_t`) continues into the header the hunk shows (net/ipv6/ip6_tunnel.c)",
    diff: stable("ip6_tunnel-return-type-line.diff"),
    verdict: "hot-patchable",
    functions: ["ip6_tnl_start_xmit:modified"],
    reasons: [],
  },
  {
    what: "`void` alone as context, then a header over two lines: its parameter is not a global variable (drivers/acpi/acpica/dsmethod.c)",
    diff: stable("acpica-return-type-line.diff"),
    verdict: "hot-patchable",
    functions: ["acpi_ds_terminate_control_method:modified"],
    reasons: [],
  },
  {
    what: "a hunk that starts inside a header's parameter list (its first line is the context) sees the parameters change (net/ipv4/tcp_ipv4.c)",
    diff: unifiedDiff("net/ipv4/tcp_ipv4.c", [
      {
        at: [1509, 1510],
        context: "struct sock *tcp_v4_syn_recv_sock(const struct sock *sk, struct sk_buff *skb,",
        body: `
 				  struct request_sock *req,
 				  struct dst_entry *dst,
 				  struct request_sock *req_unhash,
-				  bool *own_req)
+				  bool *own_req,
+				  void (*opt_child_init)(struct sock *newsk,
+							 const struct sock *sk))
 {
 	struct inet_request_sock *ireq;
 	bool found_dup_sk = false;`,
      },
    ]),
    verdict: "requires-reboot",
    functions: ["tcp_v4_syn_recv_sock:modified"],
    reasons: ["signature_changed"],
  },
  {
    what: "annotations on their own line before the return type (init/main.c start_kernel)",
    diff: stable("start_kernel-annotations.diff"),
    verdict: "needs-review",
    functions: ["start_kernel:modified"],
    reasons: ["init_code_changed"],
  },
  {
    what: "a quoted #include is an include; name-line contexts; parameter names cut out by position (fs/nfs/pnfs_nfs.c)",
    diff: stable("pnfs_nfs.diff"),
    verdict: "requires-reboot",
    functions: ["_data_server_lookup_locked:modified", "nfs4_pnfs_ds_put:modified", "nfs4_pnfs_ds_add:modified"],
    reasons: ["signature_changed", "signature_changed", "global_variable_removed", "global_variable_removed"],
    messages: [/nfs4_pnfs_ds_add\(\) changes its signature from struct nfs4_pnfs_ds\* \(const struct net\*, struct list_head\*, gfp_t\) to struct nfs4_pnfs_ds\* \(const struct net\*, struct list_head\*, u32, gfp_t\)/],
  },
  {
    what: "an added quoted #include alone is not a preprocessor conditional",
    diff: unifiedDiff("drivers/acme/acme.c", [{ at: [16, 16], body: ` #include "acme.h"\n+#include "acme_regs.h"\n \n static int acme_count;` }]),
    verdict: "needs-review",
    functions: [],
    reasons: ["no_function_changes"],
  },
  {
    what: "respelling a parameter type with its kernel typedef (`const unsigned char *` → `const u8 *`) is not a signature change (drivers/tty/ttynull.c)",
    diff: stable("ttynull-u8.diff"),
    verdict: "hot-patchable",
    functions: ["ttynull_write:modified"],
    reasons: [],
  },

  // --- goto labels ------------------------------------------------------------------------
  {
    what: "a goto label as context: inside some function the diff does not name (net/sched/sch_teql.c)",
    diff: stable("teql-label.diff"),
    verdict: "needs-review",
    functions: [],
    reasons: ["unrecognised_change"],
    messages: [/git's function context shows only its goto label "restart:"/],
  },
  {
    what: "a goto label as context, but EXPORT_SYMBOL after the closing brace names the function (drivers/infiniband/core/restrack.c)",
    diff: stable("restrack-label-then-export.diff"),
    verdict: "needs-review",
    functions: ["rdma_restrack_del:modified", "rdma_restrack_begin_del:added", "rdma_restrack_commit_del:added"],
    reasons: ["export_changed", "export_changed"],
    notes: ["function_added", "function_added"],
  },

  // --- macros that define functions or register data ------------------------------------------
  {
    what: "DEFINE_FREE (no `;`) defines a cleanup helper; it does not swallow the next function (sound/core/control_led.c)",
    diff: stable("control_led-define-free.diff"),
    verdict: "hot-patchable",
    functions: ["__free_snd_card_unref:added", "snd_ctl_led_set_id:modified"],
    reasons: [],
  },
  {
    what: "DECLARE_PCI_FIXUP_* registers its hook; its vendor is not a global variable (arch/x86/pci/fixup.c)",
    diff: stable("pci-fixup.diff"),
    verdict: "needs-review",
    functions: ["quirk_amd_nbio_enhanced_atomic:added", "quirk_amd_nbio_7_7_disable_enhanced_atomic:added", "quirk_amd_nbio_7_11_disable_enhanced_atomic:added"],
    reasons: ["global_variable_added", "global_variable_added", "top_level_macro_changed", "top_level_macro_changed"],
    messages: [/DECLARE_PCI_FIXUP_FINAL\(quirk_amd_nbio_7_7_disable_enhanced_atomic\)/],
  },
  {
    what: "SYSCALL_DEFINE2's body is __do_sys_name, and where its code lives is said",
    diff: unifiedDiff("kernel/sys.c", [
      {
        at: [1090, 1090],
        context: "SYSCALL_DEFINE2(setpgid, pid_t, pid, pid_t, pgid)",
        body: ` 	if (!pid)\n 		pid = task_pid_vnr(group_leader);\n-	if (!pgid)\n+	if (pgid <= 0)\n 		pgid = pid;`,
      },
    ]),
    verdict: "hot-patchable",
    functions: ["__do_sys_setpgid:modified"],
    reasons: [],
    notes: ["syscall_body_changed"],
    messages: [/SYSCALL_DEFINE2\(setpgid\) defines the system call's body as __do_sys_setpgid\(\): in the running kernel its code is in __do_sys_setpgid\(\) or, where the compiler inlined it, __se_sys_setpgid\(\) or the entry points __x64_sys_setpgid and __ia32_sys_setpgid/],
  },
  {
    what: "a COMPAT_SYSCALL_DEFINE6 context cut mid-name is not a function name",
    diff: unifiedDiff("fs/aio.c", [
      {
        at: [2260, 2260],
        context: "COMPAT_SYSCALL_DEFINE6(io_pgetevents_tim",
        body: ` 	if (usig && copy_from_user(&ksig, usig, sizeof(ksig)))\n 		return -EFAULT;\n \n-	ret = set_compat_user_sigmask(ksig.sigmask, ksig.sigsetsize);\n+	ret = set_compat_user_sigmask(compat_ptr(ksig.sigmask), ksig.sigsetsize);`,
      },
    ]),
    verdict: "needs-review",
    functions: [],
    reasons: ["unrecognised_change"],
    messages: [/"COMPAT_SYSCALL_DEFINE6\(io_pgetevents_tim" is cut short/],
  },
];

describe("analysePatch reads real kernel hunks right", () => {
  it.each(rows)("$what", async (row) => {
    const a = await analysePatch(row.diff);
    const findings = a.files.flatMap((f) => f.findings);
    expect(a.files.flatMap((f) => f.functions.map((fn) => `${fn.name}:${fn.change}`))).toEqual(row.functions);
    expect(a.reasons.map((r) => r.code)).toEqual(row.reasons);
    if (row.notes) expect(findings.filter((f) => f.impact === "none").map((f) => f.code)).toEqual(row.notes);
    for (const m of row.messages ?? []) expect(findings.map((f) => f.message)).toContainEqual(expect.stringMatching(m));
    expect(a.verdict).toBe(row.verdict);
  });
});
