import * as fs from "node:fs/promises";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHF, readElf, type ElfObject } from "@/lib/livepatch/elf";
import { instructionEnd, instructionLength } from "@/lib/livepatch/x86-insn";
import { SHOW_POST, compile, tempDir, tool } from "./helpers";

// Every form of RIP-relative operand a compiler or the kernel's inline assembly uses, each with
// the immediate that makes its relocation's bias differ from 4. The assembler's relocations are
// the truth: for `x(%rip)` the addend is minus the bytes from the displacement to the instruction's end.
const ASM = `
	.text
	.globl f
f:
	movb $1, x(%rip)
	movw $7, x(%rip)
	movl $1, x(%rip)
	movq $-1, x(%rip)
	cmpb $0, x(%rip)
	cmpl $5, x(%rip)
	cmpl $500000, x(%rip)
	cmpw $300, x(%rip)
	testb $1, x(%rip)
	testl $0x10000, x(%rip)
	testw $2, x(%rip)
	notl x(%rip)
	negq x(%rip)
	shll $3, x(%rip)
	shrq x(%rip)
	btl $3, x(%rip)
	btsq $40, x(%rip)
	lock orb $1, x(%rip)
	lock xaddl %eax, x(%rip)
	lock cmpxchgq %rcx, x(%rip)
	imull $1000, x(%rip), %eax
	imulq $-3, x(%rip), %rdx
	incl x(%rip)
	movzbl x(%rip), %eax
	movsbq x(%rip), %r11
	movl x(%rip), %r9d
	movq %r12, x(%rip)
	leaq x(%rip), %rdi
	pushq x(%rip)
	call *x(%rip)
	jmp *x(%rip)
	movl %gs:x(%rip), %eax
	addl $1, %gs:x(%rip)
	prefetcht0 x(%rip)
	clflush x(%rip)
	movdqu x(%rip), %xmm0
	pshufd $0x1b, x(%rip), %xmm1
	pinsrd $2, x(%rip), %xmm2
	roundss $4, x(%rip), %xmm3
	vpshufd $0x1b, x(%rip), %ymm4
	vpblendd $0x0f, x(%rip), %ymm5, %ymm6
	vmovdqu x(%rip), %ymm7
	shldl $4, %eax, x(%rip)
	cmovel x(%rip), %eax
	sete x(%rip)
	xchgl %eax, x(%rip)
	movabsq $0x1122334455667788, %rax
	movabs x, %eax
	enter $16, $0
	call g
	jne g
	jmp g
	ret
`;

let dir: string;
let asmObj: ElfObject;
let asmPath: string;
let cPath: string;
beforeAll(async () => {
  dir = await tempDir("insn");
  asmPath = path.join(dir, "forms.o");
  await fs.writeFile(path.join(dir, "forms.s"), ASM);
  await tool("as", ["--64", "-o", asmPath, path.join(dir, "forms.s")]);
  asmObj = readElf(await fs.readFile(asmPath));
  // Compiler output too (with SSE allowed: more encodings than the kernel's -mno-sse code).
  const src = `${SHOW_POST}
struct big { long a[9]; };
void copy(struct big *d, const struct big *s) { *d = *s; }
double scale(double x, int n) { return x * n + 0.5; }
long mix(long a, long b) { return (a << 13) ^ (b >> 7) ^ (a * 0x123456789L) ^ __builtin_popcountl(b); }
int sw(int x) { switch (x) { case 1: return 10; case 2: return 22; case 3: return 37; case 4: return 41; case 5: return 59; default: return -1; } }
`;
  cPath = (await compile(dir, "code", src)).path;
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** objdump -d's instruction starts, by section. */
async function objdumpStarts(file: string): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  let current: number[] | undefined;
  for (const line of (await tool("objdump", ["-d", "-w", file])).stdout.split("\n")) {
    const h = /^Disassembly of section (.*):$/.exec(line);
    if (h) out.set(h[1] as string, (current = []));
    const m = /^\s+([0-9a-f]+):\t/.exec(line);
    if (m && current) current.push(parseInt(m[1] as string, 16));
  }
  return out;
}

/** Our decoder's instruction starts over a whole section. */
function decodedStarts(code: Buffer): number[] {
  const out: number[] = [];
  for (let at = 0; at < code.length; ) {
    out.push(at);
    const n = instructionLength(code, at);
    if (n === undefined) throw new Error(`cannot decode ${code.subarray(at, at + 8).toString("hex")} at ${at}`);
    at += n;
  }
  return out;
}

describe("instructionLength", () => {
  it("finds the same instruction boundaries as objdump in assembler and gcc output", async () => {
    for (const file of [asmPath, cPath]) {
      const obj = readElf(await fs.readFile(file));
      const truth = await objdumpStarts(file);
      const texts = obj.sections.filter((s) => (s.flags & SHF.EXECINSTR) !== 0n && s.data.length > 0);
      expect(texts.length).toBeGreaterThan(file === cPath ? 5 : 0);
      for (const s of texts) expect(decodedStarts(s.data), `${path.basename(file)} ${s.name}`).toEqual(truth.get(s.name));
    }
  });

  it("ends each instruction where its RIP-relative relocation's addend says", () => {
    const text = asmObj.sections.find((s) => s.name === ".text");
    const rela = asmObj.sections.find((s) => s.target === text);
    const relas = (rela?.relas ?? []).filter((r) => r.sym.name === "x" && r.type === 2);
    expect(relas.length).toBeGreaterThan(40);
    const biases = new Set<number>();
    for (const r of relas) {
      const end = instructionEnd((text as { data: Buffer }).data, 0, Number(r.offset));
      expect(end, `relocation at ${r.offset}`).toBeDefined();
      expect((end as number) - Number(r.offset), `relocation at ${r.offset}`).toBe(Number(-r.addend));
      biases.add(Number(-r.addend));
    }
    expect([...biases].sort()).toEqual([4, 5, 6, 8]); // every immediate size occurs
  });

  it.each([
    ["an EVEX instruction", "62f1fd48 6f0500000000"],
    ["an opcode invalid in 64-bit mode", "06"],
    ["a truncated instruction", "c705000000"],
    ["only prefixes", "6666666666666666666666666666666666"],
  ])("returns undefined for %s", (_what, hex) => {
    expect(instructionLength(Buffer.from(hex.replace(/ /g, ""), "hex"), 0)).toBeUndefined();
  });
});
