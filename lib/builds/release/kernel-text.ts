// The kernel's own text formats release preparation reads: the top Makefile's version and a .config.

/** `VERSION = 6`, `PATCHLEVEL = 1`, `SUBLEVEL = 192` → 6.1.192. */
export function makefileVersion(makefile: string): string | undefined {
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\d+)\\s*$`, "m").exec(makefile)?.[1];
  const [v, p, s] = [get("VERSION"), get("PATCHLEVEL"), get("SUBLEVEL")];
  return v && p ? `${v}.${p}${s !== undefined ? `.${s}` : ""}` : undefined;
}

/** `CONFIG_X=y`, `CONFIG_X=m`, `CONFIG_X="str"`; `# CONFIG_X is not set` is simply absent. */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^(CONFIG_\w+)=(.*)$/gm)) out.set(m[1] as string, (m[2] as string).trim());
  return out;
}
