// x86-64 instruction lengths, enough to know where an instruction with a RIP-relative operand
// ends: a PC-relative relocation's addend is biased by the bytes from its displacement to the
// end of the instruction, which are 4 plus the immediate that follows (`movb $1, x(%rip)`: 5,
// `movl $1, x(%rip)`: 8). Without that, a reference into a section holding several variables
// (`.data.once`, `.data..read_mostly`) would be taken for its neighbour.
//
// Written by hand: a length decoder is a few tables, and npm's x86 decoders are large WASM builds.
// It knows the general-purpose, x87, SSE and VEX encodings compilers emit; anything else is
// `undefined`, never a guess.

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

const PREFIXES = new Set([0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67]);
// One-byte opcodes invalid in 64-bit mode (0x62 EVEX and 0x8f XOP are not decoded either).
const INVALID_1 = new Set([0x06, 0x07, 0x0e, 0x16, 0x17, 0x1e, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x60, 0x61, 0x62, 0x82, 0x9a, 0xce, 0xd4, 0xd5, 0xd6, 0xea]);
const MODRM_1 = new Set([
  ...[0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38].flatMap((b) => range(b, b + 3)),
  0x63, 0x69, 0x6b, ...range(0x80, 0x8f), 0xc0, 0xc1, 0xc6, 0xc7, ...range(0xd0, 0xd3), ...range(0xd8, 0xdf), 0xf6, 0xf7, 0xfe, 0xff,
]);
const IMM8_1 = new Set([0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x6a, 0x6b, ...range(0x70, 0x7f), 0x80, 0x83, 0xa8, ...range(0xb0, 0xb7), 0xc0, 0xc1, 0xc6, 0xcd, ...range(0xe0, 0xe7), 0xeb]);
/** imm16/32: 2 bytes with an operand-size prefix, else 4. */
const IMMZ_1 = new Set([0x05, 0x0d, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x68, 0x69, 0x81, 0xa9, 0xc7]);

// Two-byte opcodes (0f xx) without a ModRM byte, with an imm8, and invalid ones.
const NO_MODRM_0F = new Set([0x05, 0x06, 0x07, 0x08, 0x09, 0x0b, 0x0e, ...range(0x30, 0x37), 0x77, ...range(0x80, 0x8f), 0xa0, 0xa1, 0xa2, 0xa8, 0xa9, 0xaa, ...range(0xc8, 0xcf)]);
const IMM8_0F = new Set([0x0f, ...range(0x70, 0x73), 0xa4, 0xac, 0xba, 0xc2, 0xc4, 0xc5, 0xc6]);
const INVALID_0F = new Set([0x04, 0x0a, 0x0c, 0x24, 0x25, 0x26, 0x27, 0x36, 0x39, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f, 0x7a, 0x7b, 0xa6, 0xa7]);

/** The length of the instruction at `at`, or undefined when it is not one this decoder knows. */
export function instructionLength(code: Uint8Array, at: number): number | undefined {
  let i = at;
  const byte = () => (i < code.length ? (code[i++] as number) : undefined);
  let opsize16 = false;
  let addr32 = false;
  let b = byte();
  let prefixes = 0;
  while (b !== undefined && PREFIXES.has(b)) {
    if (b === 0x66) opsize16 = true;
    if (b === 0x67) addr32 = true;
    if (++prefixes > 14) return undefined;
    b = byte();
  }
  let rexW = false;
  if (b !== undefined && (b & 0xf0) === 0x40) {
    rexW = (b & 0x08) !== 0;
    b = byte();
  }
  if (b === undefined) return undefined;
  const immz = opsize16 ? 2 : 4;
  let modrm = false;
  let imm = 0;
  /** F6/F7: only /0 and /1 (test) take an immediate. */
  let testGroup = 0;

  if (b === 0x0f) {
    const op = byte();
    if (op === undefined) return undefined;
    if (op === 0x38) {
      if (byte() === undefined) return undefined;
      modrm = true;
    } else if (op === 0x3a) {
      if (byte() === undefined) return undefined;
      modrm = true;
      imm = 1;
    } else {
      if (INVALID_0F.has(op)) return undefined;
      modrm = !NO_MODRM_0F.has(op);
      if (IMM8_0F.has(op)) imm = 1;
      if (op >= 0x80 && op <= 0x8f) imm = 4; // jcc rel32
    }
  } else if (b === 0xc4 || b === 0xc5) {
    // VEX: the map comes from the prefix; map 3 takes an imm8, so do map 1's imm8 opcodes.
    let map = 1;
    if (b === 0xc4) {
      const p1 = byte();
      if (p1 === undefined || byte() === undefined) return undefined;
      map = p1 & 0x1f;
    } else if (byte() === undefined) return undefined;
    const op = byte();
    if (op === undefined || map < 1 || map > 3) return undefined;
    modrm = !(map === 1 && op === 0x77); // vzeroupper/vzeroall
    if (map === 3 || (map === 1 && IMM8_0F.has(op))) imm = 1;
  } else {
    if (INVALID_1.has(b)) return undefined;
    modrm = MODRM_1.has(b);
    if (IMM8_1.has(b)) imm = 1;
    else if (IMMZ_1.has(b)) imm = immz;
    else if (b === 0xe8 || b === 0xe9) imm = 4;
    else if (b >= 0xb8 && b <= 0xbf) imm = rexW ? 8 : immz;
    else if (b >= 0xa0 && b <= 0xa3) imm = addr32 ? 4 : 8; // moffs
    else if (b === 0xc2 || b === 0xca) imm = 2;
    else if (b === 0xc8) imm = 3;
    if (b === 0xf6) testGroup = 1;
    if (b === 0xf7) testGroup = immz;
  }

  if (modrm) {
    const m = byte();
    if (m === undefined) return undefined;
    const mod = m >> 6;
    const rm = m & 7;
    if (testGroup > 0 && ((m >> 3) & 7) < 2) imm = testGroup;
    if (mod !== 3) {
      let disp = mod === 1 ? 1 : mod === 2 ? 4 : 0;
      if (rm === 4) {
        const sib = byte();
        if (sib === undefined) return undefined;
        if (mod === 0 && (sib & 7) === 5) disp = 4;
      } else if (mod === 0 && rm === 5) {
        disp = 4; // RIP-relative
      }
      i += disp;
    }
  }
  i += imm;
  return i <= code.length ? i - at : undefined;
}

/**
 * The end of the instruction holding byte `offset`, decoding from `start` (an instruction
 * boundary: the function's start). Undefined when decoding fails before reaching it.
 */
export function instructionEnd(code: Uint8Array, start: number, offset: number): number | undefined {
  let at = start;
  while (at <= offset) {
    const n = instructionLength(code, at);
    if (n === undefined) return undefined;
    if (offset < at + n) return at + n;
    at += n;
  }
  return undefined;
}
