// Which object of the running kernel a source file is compiled into: vmlinux or a module. The
// klp_object of a live patch must name it (NULL for vmlinux), or the kernel patches nothing.
// Decided from the file's directory Makefile/Kbuild and the release's .config, the way kbuild
// does: `obj-y += foo.o` is built in, `obj-$(CONFIG_X) += foo.o` follows CONFIG_X (y or m), and a
// file listed in a composite object (`bar-y += foo.o`, `bar-objs := foo.o`, `bar-$(CONFIG_Y) +=`)
// belongs to wherever `bar.o` goes. Limits: only the file's own directory is read (a directory
// entered from its parent through `obj-m += dir/` is not seen), and make functions other than
// plain $(CONFIG_X) are not evaluated.

export type ObjectOwner =
  | { kind: "vmlinux" }
  | { kind: "module"; name: string; config?: string }
  | { kind: "not-built"; config: string }
  | { kind: "unknown"; reason: string };

interface Assignment {
  /** `obj` or a composite object's name. */
  target: string;
  /** y, m, objs, or a CONFIG_ option. */
  condition: string;
  objects: string[];
}

/** `target-cond [:+]?= a.o b.o` lines of a Makefile, continuations joined, comments dropped. */
export function parseKbuildAssignments(makefile: string): Assignment[] {
  const joined = makefile.replace(/\\\r?\n/g, " ");
  const out: Assignment[] = [];
  for (const raw of joined.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const m = /^([A-Za-z0-9_.-]+?)-(y|m|objs|\$\((CONFIG_\w+)\))\s*[:+?]?=\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ target: m[1] as string, condition: m[3] ?? (m[2] as string), objects: (m[4] as string).split(/\s+/).filter(Boolean) });
  }
  return out;
}

/**
 * The owner of `fileName` (e.g. cmdline.c) given the Makefile(s) of its directory and the
 * release's .config. Module names use underscores, as the kernel shows them.
 */
export function objectOwner(fileName: string, makefiles: string[], config: Map<string, string>): ObjectOwner {
  const assignments = makefiles.flatMap(parseKbuildAssignments);
  const object = fileName.replace(/\.c$/, ".o");
  return ownerOf(object, assignments, config, new Set());
}

function ownerOf(object: string, assignments: Assignment[], config: Map<string, string>, seen: Set<string>): ObjectOwner {
  if (seen.has(object)) return { kind: "unknown", reason: `${object} is listed in a loop of composite objects` };
  seen.add(object);
  const entries = assignments.filter((a) => a.objects.includes(object));
  if (entries.length === 0) return { kind: "unknown", reason: `${object} is not listed in its directory's Makefile or Kbuild` };
  let notBuilt: ObjectOwner | undefined;
  for (const a of entries) {
    const value = a.condition.startsWith("CONFIG_") ? (config.get(a.condition) ?? "n") : a.condition === "objs" ? "y" : a.condition;
    if (value !== "y" && value !== "m") {
      notBuilt ??= { kind: "not-built", config: a.condition };
      continue;
    }
    if (a.target === "obj") {
      if (value === "y") return { kind: "vmlinux" };
      return { kind: "module", name: object.replace(/\.o$/, "").replace(/-/g, "_"), ...(a.condition.startsWith("CONFIG_") ? { config: a.condition } : {}) };
    }
    // Part of a composite object: it goes where the composite goes.
    const owner = ownerOf(`${a.target}.o`, assignments, config, seen);
    if (owner.kind === "vmlinux" || owner.kind === "module") return owner;
    if (owner.kind === "not-built") notBuilt ??= owner;
    else if (!notBuilt) return owner;
  }
  return notBuilt ?? { kind: "unknown", reason: `${object} is not built` };
}
