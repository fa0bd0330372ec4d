// Line-level lexical facts about C source fragments: what is code and what is comment, and
// brace balance. Fragments start anywhere (mid-comment, mid-function), so this works per
// line and never needs the whole file.

/**
 * Each line with comments removed and string/char literal contents emptied, so that braces,
 * semicolons and keywords in comments or strings are not mistaken for code. With keepLiterals
 * the literals stay whole: that is the text to compare when asking whether code changed.
 */
export function codeLines(lines: string[], opts: { keepLiterals?: boolean } = {}): string[] {
  let inBlock = startsInsideComment(lines);
  return lines.map((line) => {
    let out = "";
    let i = 0;
    while (i < line.length) {
      if (inBlock) {
        const end = line.indexOf("*/", i);
        if (end < 0) return out;
        inBlock = false;
        i = end + 2;
        out += " ";
        continue;
      }
      const c = line[i];
      const next = line[i + 1];
      if (c === "/" && next === "*") {
        inBlock = true;
        i += 2;
      } else if (c === "/" && next === "/") {
        return out;
      } else if (c === '"' || c === "'") {
        const close = literalEnd(line, i);
        out += opts.keepLiterals ? line.slice(i, close + 1) : c + c;
        i = close + 1;
      } else {
        out += c;
        i++;
      }
    }
    return out;
  });
}

/**
 * True if the fragment opens inside a block comment: a `*/` comes before any `/*`, or it shows
 * nothing but ` * ` continuation lines (a hunk in the middle of a long comment).
 */
function startsInsideComment(lines: string[]): boolean {
  let starLines = false;
  for (const line of lines) {
    const open = line.indexOf("/*");
    const close = line.indexOf("*/");
    if (close >= 0 && (open < 0 || close < open)) return true;
    if (open >= 0) return false;
    if (/^\s*[/{}();\w#]/.test(line) && !/^\s*\*/.test(line)) return false;
    if (/^\s*\*(\s|$)/.test(line)) starLines = true;
  }
  return starLines;
}

function literalEnd(line: string, start: number): number {
  const quote = line[start];
  for (let i = start + 1; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === quote) return i;
  }
  return line.length - 1;
}

/** Net openers minus closers of a line of code (comments and strings already removed). */
const netOf =
  (open: string, close: string) =>
  (code: string): number => {
    let d = 0;
    for (const c of code) {
      if (c === open) d++;
      else if (c === close) d--;
    }
    return d;
  };

/** Net `{` minus `}`. */
export const braceDelta = netOf("{", "}");
/** Net `(` minus `)`. */
export const parenDelta = netOf("(", ")");

const LITERAL = /("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')/;

/**
 * Collapses whitespace so that re-wrapping or re-indenting is not seen as a change. String and
 * character literals are kept as they are: a space inside one is part of the program.
 */
export function normaliseCode(code: string): string {
  return code
    .split(LITERAL)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/\s+/g, " ").replace(/\s*([()[\]{},;*=])\s*/g, "$1")))
    .join("")
    .trim();
}

// Kernel annotations that are macros tree-sitter cannot know about; they would make it
// misparse `static int __init foo(void)`. Replaced by spaces (same length, positions kept).
const ANNOTATIONS = [
  "__init", "__exit", "__initdata", "__initconst", "__exitdata", "__ref", "__refdata", "__meminit", "__meminitdata",
  "__read_mostly", "__ro_after_init", "__user", "__kernel", "__iomem", "__rcu", "__percpu", "__force", "__bitwise",
  "__must_check", "__cold", "__hot", "__always_inline", "noinline", "notrace", "__maybe_unused", "__used", "__weak",
  "__visible", "__randomize_layout", "__no_randomize_layout", "__packed", "__noreturn", "asmlinkage", "__sched",
  "__latent_entropy", "__nocfi", "__noclone", "__attribute_const__", "__pure", "__malloc", "__net_init", "__net_exit",
  "__net_initdata", "__init_or_module", "__cacheline_aligned", "__cacheline_aligned_in_smp", "____cacheline_aligned",
  "____cacheline_aligned_in_smp", "__page_aligned_bss", "__page_aligned_data", "noinstr", "__always_unused",
  "__flatten", "__fastpath", "__kprobes", "nokprobe_inline", "__nocapture", "__refconst", "__init_memblock",
  "__no_sanitize_address", "__no_stack_protector", "__no_kcsan", "__no_sanitize_thread", "__no_sanitize_undefined",
  "__no_profile", "__noinline_for_stack", "noinline_for_stack", "__bpf_kfunc", "__irq_entry", "__cpuidle",
];
const ANNOTATION_RE = new RegExp(`\\b(?:${ANNOTATIONS.join("|")})\\b`, "g");
const ANNOTATION_CALL_RE =
  /\b(?:__aligned|__section|__printf|__scanf|__acquires|__releases|__must_hold|__counted_by|__alloc_size|__nonstring|__designated_init|__cond_acquires|__guarded_by|__pt_guarded_by|__diag_ignore|__cleanup|__free|__setup_param)\s*\((?:[^()]|\([^()]*\))*\)/g;

export function blankAnnotations(code: string): string {
  const blank = (m: string) => " ".repeat(m.length);
  return code.replace(ANNOTATION_CALL_RE, blank).replace(ANNOTATION_RE, blank);
}

/** Code that runs only at boot or module load/unload (and its data), by its annotation. */
export function initAnnotation(code: string): "init" | "exit" | "initdata" | undefined {
  if (/\b(?:__init|__meminit)\b/.test(code)) return "init";
  if (/\b__exit\b/.test(code)) return "exit";
  if (/\b(?:__initdata|__initconst|__meminitdata|__exitdata)\b/.test(code)) return "initdata";
  return undefined;
}
