// Fragments of real kernel code come in every shape: no function context, labels at column
// 0, return types on their own line, hunks that start inside nested unions. These pin down
// that the analysis still finds the right definition, and that it stays fast.
import { describe, expect, it } from "vitest";
import { analysePatch } from "@/lib/analysis/analysis";
import { unifiedDiff as diff } from "../../../helpers/unified-diff";

describe("finding the definition a change belongs to", () => {
  it("parses the function header out of the context lines when git gave no function context", async () => {
    const a = await analysePatch(
      diff("drivers/acme/probe.c", [
        {
          at: [40, 40],
          body: `
 static int
 acme_probe(struct platform_device *pdev)
 {
 	struct acme *acme;
 
-	acme = kzalloc(sizeof(*acme), GFP_KERNEL);
+	acme = devm_kzalloc(&pdev->dev, sizeof(*acme), GFP_KERNEL);
 	if (!acme)
 		return -ENOMEM;`,
        },
      ]),
    );
    expect(a.verdict).toBe("hot-patchable");
    expect(a.functions).toEqual(["acme_probe"]);
  });

  it("keeps column-0 goto labels inside the function git named", async () => {
    const a = await analysePatch(
      diff("net/core/acme.c", [
        {
          at: [300, 300],
          context: "static int acme_setup(struct net_device *dev)",
          body: `
 	return 0;
 
 err_free:
-	kfree(priv);
+	kfree_sensitive(priv);
 out:
 	return err;
 }`,
        },
      ]),
    );
    expect(a.files[0].functions).toEqual([{ name: "acme_setup", change: "modified", line: 303 }]);
    expect(a.verdict).toBe("hot-patchable");
  });

  it("uses the context even when git truncated it mid-parameter list, and sees the next function start", async () => {
    const a = await analysePatch(
      diff("mm/acme.c", [
        {
          at: [10, 10],
          context: "static unsigned long acme_scan(struct shrinker *s, struct shrink_control *sc, unsigned lo",
          body: `
-	return SHRINK_STOP;
+	return sc->nr_scanned ? sc->nr_scanned : SHRINK_STOP;
 }
 
 static void acme_free(struct rcu_head *head) { kfree(head); }
 
 static int acme_count(void)
 {
-	return 0;
+	return atomic_read(&acme_objects);
 }`,
        },
      ]),
    );
    expect(a.files[0].functions.map((f) => f.name)).toEqual(["acme_scan", "acme_count"]);
  });

  it("does not take the tail of a call for the rest of a header the context began", async () => {
    // The context's parameter list runs on, but the hunk starts in the body, inside a call.
    const a = await analysePatch(
      diff("sound/pci/via82xx_modem.c", [
        {
          at: [576, 576],
          context: "static inline unsigned int calc_linear_pos(struct via82xx_modem *chip,",
          body: `
 		       viadev->bufsize2, viadev->idx_table[idx].offset,
 		       viadev->idx_table[idx].size, count);
 #endif
-		if (count && size < count) {
+		if (count && size <= count) {
 			res = viadev->lastpos;`,
        },
      ]),
    );
    expect(a.files[0].functions).toEqual([{ name: "calc_linear_pos", change: "modified", line: 579 }]);
    expect(a.verdict).toBe("hot-patchable");
  });

  it("does not guess when a change has no visible definition at all", async () => {
    const a = await analysePatch(
      diff("drivers/acme/io.c", [
        {
          at: [80, 80],
          body: `
 		writel(val, base + REG_CTRL);
-		udelay(10);
+		udelay(50);
 		val = readl(base + REG_STATUS);`,
        },
      ]),
    );
    expect(a.verdict).toBe("needs-review");
    expect(a.reasons.map((r) => r.code)).toEqual(["unrecognised_change"]);
  });

  it("treats a function moved between hunks of a file as modified, not removed and added", async () => {
    const a = await analysePatch(
      diff("lib/acme.c", [
        {
          at: [10, 10],
          body: `
 #include <linux/acme.h>
 
-static int acme_hash(u32 v)
-{
-	return v * 31;
-}
-
 int acme_lookup(u32 v)
 {`,
        },
        {
          at: [60, 55],
          body: `
 	return 0;
 }
 
+static int acme_hash(u32 v)
+{
+	return v * 37;
+}
+
 EXPORT_SYMBOL(acme_lookup);`,
        },
      ]),
    );
    expect(a.files[0].functions).toEqual([{ name: "acme_hash", change: "modified", line: 58 }]);
    expect(a.verdict).toBe("hot-patchable");
  });

  it("reads struct fields when the hunk starts inside a nested union", async () => {
    const a = await analysePatch(
      diff("include/linux/acme.h", [
        {
          at: [20, 20],
          context: "struct acme_dev {",
          body: `
 		struct list_head	list;
 		struct rcu_head		rcu;
 	};
-	u32			flags;
+	u64			flags;
 	spinlock_t		lock;
 };`,
        },
      ]),
    );
    expect(a.reasons.map((r) => r.message)).toEqual(['struct acme_dev field "flags" changes type from u32 to u64: changes the layout of existing data']);
  });

  it("sees struct fields reordered and removed", async () => {
    const a = await analysePatch(
      diff("include/linux/acme.h", [
        {
          at: [5, 5],
          body: `
 struct acme_stats {
-	u64	rx;
 	u64	tx;
+	u64	rx;
-	u64	dropped;
 };`,
        },
      ]),
    );
    expect(a.reasons.map((r) => r.code)).toEqual(["struct_field_removed", "struct_fields_reordered"]);
  });

  it("flags __initdata tables, exports and initcalls", async () => {
    const a = await analysePatch(
      diff("drivers/acme/core.c", [
        {
          at: [12, 12],
          body: `
 static const char *acme_names[] __initdata = {
-	"acme0",
+	"acme0", "acme1",
 };`,
        },
        {
          at: [90, 90],
          body: `
 }
+EXPORT_SYMBOL_GPL(acme_register);
-module_init(acme_init);
+late_initcall(acme_init);`,
        },
      ]),
    );
    expect(a.reasons.map((r) => [r.code, r.symbol])).toEqual([
      ["init_data_changed", "acme_names"],
      ["export_changed", "acme_register"],
      ["init_code_changed", "acme_init"],
      ["no_function_changes", undefined],
    ]);
  });

  it("lists every function of a new file as added", async () => {
    const text = `diff --git a/drivers/acme/xdp.c b/drivers/acme/xdp.c
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/drivers/acme/xdp.c
@@ -0,0 +1,9 @@
+// SPDX-License-Identifier: GPL-2.0
+int acme_xdp_setup(struct acme *acme)
+{
+	return 0;
+}
+void acme_xdp_teardown(struct acme *acme)
+{
+	acme->prog = NULL;
+}
`;
    const a = await analysePatch(text);
    expect(a.files[0]).toMatchObject({ status: "added", kind: "c" });
    expect(a.files[0].functions.map((f) => `${f.name}:${f.change}`)).toEqual(["acme_xdp_setup:added", "acme_xdp_teardown:added"]);
    expect(a.verdict).toBe("hot-patchable");
  });
});

describe("large patches", () => {
  // Correctness at size only: timing belongs to benchmarks, not to a unit test on a shared CI machine.
  it("analyses a 200 KB patch of 48 files and 576 hunks", async () => {
    const hunk = (i: number) => ({
      at: [i * 40 + 1, i * 40 + 1] as [number, number],
      context: `static int acme_handler_${i}(struct acme *acme, unsigned int cmd, unsigned long arg)`,
      body: `
 	struct acme_req req;
 	int ret;
 
-	if (copy_from_user(&req, (void __user *)arg, sizeof(req)))
+	if (copy_from_user(&req, (void __user *)arg, sizeof(req)) ||
+	    req.len > ACME_MAX_LEN)
 		return -EFAULT;
 	ret = acme_submit(acme, &req);
 	return ret;`,
    });
    const files = Array.from({ length: 48 }, (_, f) => diff(`drivers/acme/part${f}.c`, Array.from({ length: 12 }, (_, i) => hunk(i))));
    const text = files.join("");
    // A console process is long-lived: load the grammar and warm the JIT on a smaller patch first.
    await analysePatch(files.slice(0, 8).join("").replace(/acme_handler_/g, "warm_handler_"));
    expect(text.length).toBeGreaterThan(200_000);
    const started = performance.now();
    const a = await analysePatch(text);
    const ms = performance.now() - started;
    expect(a.stats).toMatchObject({ files: 48, hunks: 576 });
    expect(a.functions).toHaveLength(12);
    expect(a.verdict).toBe("hot-patchable");
    if (process.env.PATCH_BENCH) console.log(`analysed ${text.length} bytes in ${ms.toFixed(0)} ms`);
  });
});
