import { execFile } from "node:child_process";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readElf, STT } from "@/lib/livepatch/elf";
import { indexObject } from "@/lib/livepatch/kernel-object";
import { compareCode, functionCode, ModuleCode, runPreModule } from "@/lib/livepatch/run-pre";
import { GCC_FLAGS, compile, tempDir } from "./helpers";

const run = promisify(execFile);

describe("compareCode", () => {
  const code = Buffer.from([0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0x5d, 0xc3]);
  const cases: { name: string; shipped: number[]; mask: [number, number][]; reason?: RegExp }[] = [
    { name: "the same bytes match", shipped: [...code], mask: [] },
    { name: "a difference a relocation fills in is ignored", shipped: [0x55, 0x48, 0x89, 0xe5, 0xe8, 1, 2, 3, 4, 0x5d, 0xc3], mask: [[5, 9]] },
    { name: "any other difference refuses, with its place", shipped: [0x55, 0x48, 0x89, 0xe5, 0xe8, 0, 0, 0, 0, 0x5b, 0xc3], mask: [[5, 9]], reason: /^f differs from the running kernel's at byte 9 of 11 \(0x5b shipped, 0x5d compiled here\)$/ },
    { name: "another length refuses", shipped: [0x55, 0xc3], mask: [], reason: /^f is 2 bytes in the running kernel but 11 bytes when compiled from this source$/ },
  ];
  it.each(cases)("$name", ({ shipped, mask, reason }) => {
    const r = compareCode({ name: "f", pre: code, preMask: mask, shipped: Buffer.from(shipped) });
    if (reason) expect(r.ok ? "ok" : r.reason).toMatch(reason);
    else expect(r).toEqual({ ok: true });
  });
});

// A module ships relocatable: its code still names what it refers to. The object compiled here
// has function and data sections (one symbol each); the shipped one, as kbuild builds a module,
// does not, so its references are section symbols plus an offset that must be resolved.
describe("runPreModule", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir("runpre");
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const source = (counted: "a" | "b") => `static int a, b;
int __attribute__((noinline)) bump(void) { return ++${counted}; }
int total(void) { return a + b; }
`;

  async function shippedObject(name: string, src: string) {
    const c = path.join(dir, `${name}.c`);
    const o = path.join(dir, `${name}.o`);
    await fs.writeFile(c, src);
    await run("gcc", [...GCC_FLAGS.filter((f) => f !== "-ffunction-sections" && f !== "-fdata-sections"), c, "-o", o]);
    return new ModuleCode(readElf(await fs.readFile(o)));
  }

  async function check(shippedSource: string) {
    const pre = indexObject(readElf((await compile(dir, "pre", source("a"))).bytes));
    const preFn = pre.obj.symbols.find((s) => s.name === "bump" && s.type === STT.FUNC)!;
    const shipped = await shippedObject(`shipped-${shippedSource === source("a") ? "same" : "other"}`, shippedSource);
    const shippedFn = shipped.function("bump")!;
    return { result: runPreModule({ name: "bump", pre, preFn, shipped: shipped.index, shippedFn }), pre, preFn, shipped, shippedFn };
  }

  it("matches the same source built without function and data sections", async () => {
    const { result } = await check(source("a"));
    expect(result).toEqual({ ok: true });
  });

  it("refuses code whose bytes match but which uses another static variable, naming both", async () => {
    const { result, pre, preFn, shipped, shippedFn } = await check(source("b"));
    // The bytes alone cannot tell: the relocation sites are masked.
    const mine = functionCode(pre.obj, preFn);
    const theirs = functionCode(shipped.index.obj, shippedFn);
    expect(compareCode({ name: "bump", pre: mine.bytes, preMask: mine.mask, shipped: theirs.bytes, shippedMask: theirs.mask })).toEqual({ ok: true });
    expect(result.ok ? "ok" : result.reason).toMatch(/^bump refers to b(-\d+)? at byte \d+ in the running kernel but to a(-\d+)? when compiled from this source$/);
  });

  it("takes a reference to an empty variable for any empty one at its address (lock_class_key without lockdep)", async () => {
    // kbuild's shipped object places both empty keys at one address: a relocation to it names
    // either. ib_core's alloc_and_bind was refused for `__key.0` against `__key.1`.
    const keys = `struct lock_class_key { };\nextern void use(void *);\nstatic struct lock_class_key k1, k2;\nvoid __attribute__((noinline)) first(void) { use(&k1); }\nvoid __attribute__((noinline)) second(void) { use(&k2); }\n`;
    const pre = indexObject(readElf((await compile(dir, "keys-pre", keys)).bytes));
    const shipped = await shippedObject("keys-shipped", keys);
    const k = (name: string) => shipped.index.obj.symbols.find((x) => x.name === name)!;
    expect(k("k1").size).toBe(0n);
    expect(k("k1").value).toBe(k("k2").value); // else the case proves nothing
    for (const name of ["first", "second"]) {
      const preFn = pre.obj.symbols.find((x) => x.name === name && x.type === STT.FUNC)!;
      expect(runPreModule({ name, pre, preFn, shipped: shipped.index, shippedFn: shipped.function(name)! })).toEqual({ ok: true });
    }
  });

  it("takes a reference to an empty variable for the variable that starts at the same address (raid456's __key.110 and raid5_wq)", async () => {
    const keys = `struct lock_class_key { };\nextern void use(void *);\nstatic int v;\nstatic struct lock_class_key k;\nvoid __attribute__((noinline)) f(void) { use(&v); }\nvoid __attribute__((noinline)) g(void) { use(&k); }\n`;
    const pre = indexObject(readElf((await compile(dir, "keyvar-pre", keys)).bytes));
    const shipped = await shippedObject("keyvar-shipped", keys);
    const sym = (name: string) => shipped.index.obj.symbols.find((x) => x.name === name)!;
    expect(sym("k").value).toBe(sym("v").value); // else the case proves nothing
    for (const name of ["f", "g"]) {
      const preFn = pre.obj.symbols.find((x) => x.name === name && x.type === STT.FUNC)!;
      expect(runPreModule({ name, pre, preFn, shipped: shipped.index, shippedFn: shipped.function(name)! })).toEqual({ ok: true });
    }
  });

  it("takes the end of an array for the variable that starts there (a loop's bound: hv's vmbus_versions + 32)", async () => {
    const src = `extern int use(int);\nstatic int next_var, arr[4];\nvoid set(int v, int i) { next_var = v; arr[i & 3] = v; }\nint __attribute__((noinline)) sum(void) { int s = 0; for (int *p = arr; p < arr + 4; p++) s += use(*p); return s + next_var; }\n`;
    const pre = indexObject(readElf((await compile(dir, "end-pre", src)).bytes));
    const shipped = await shippedObject("end-shipped", src);
    const sym = (name: string) => shipped.index.obj.symbols.find((x) => x.name === name)!;
    expect(sym("arr").value + sym("arr").size).toBe(sym("next_var").value); // else the case proves nothing
    const preFn = pre.obj.symbols.find((x) => x.name === "sum" && x.type === STT.FUNC)!;
    expect(runPreModule({ name: "sum", pre, preFn, shipped: shipped.index, shippedFn: shipped.function("sum")! })).toEqual({ ok: true });
  });

  it("finds the n-th function of a name, and none past the last", async () => {
    const shipped = await shippedObject("shipped-lookup", source("a"));
    expect(shipped.function("bump")?.name).toBe("bump");
    expect(shipped.function("bump", 2)).toBeUndefined();
    expect(shipped.function("nothing")).toBeUndefined();
  });
});
