"use client";
import * as React from "react";
import { cn } from "../ui/cn";
import { Button } from "../ui/button";

type Kind = "add" | "del" | "ctx" | "hunk" | "file" | "meta" | "note";

interface Line {
  kind: Kind;
  text: string;
  oldNo?: number;
  newNo?: number;
}

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

/** Classifies each line of a unified diff and numbers it from its hunk header. */
export function classifyDiff(diff: string): Line[] {
  const out: Line[] = [];
  let oldNo = 0;
  let newNo = 0;
  let inHunk = false;
  const lines = diff.replace(/\r\n/g, "\n").split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  for (const text of lines) {
    const h = HUNK.exec(text);
    if (h) {
      oldNo = Number(h[1]);
      newNo = Number(h[2]);
      inHunk = true;
      out.push({ kind: "hunk", text });
    } else if (text.startsWith("diff --git ") || (!inHunk && (text.startsWith("--- ") || text.startsWith("+++ ")))) {
      inHunk = false;
      out.push({ kind: "file", text });
    } else if (inHunk && text.startsWith("+")) {
      out.push({ kind: "add", text, newNo: newNo++ });
    } else if (inHunk && text.startsWith("-")) {
      // "-- " after the last hunk is git format-patch's signature separator.
      if (text === "-- ") {
        inHunk = false;
        out.push({ kind: "meta", text });
      } else out.push({ kind: "del", text, oldNo: oldNo++ });
    } else if (inHunk && (text.startsWith(" ") || text === "")) {
      out.push({ kind: "ctx", text, oldNo: oldNo++, newNo: newNo++ });
    } else if (inHunk && text.startsWith("\\")) {
      out.push({ kind: "note", text });
    } else {
      inHunk = false;
      out.push({ kind: "meta", text });
    }
  }
  return out;
}

const rowClass: Record<Kind, string> = {
  add: "bg-ok-soft/80 text-foreground",
  del: "bg-bad-soft/80 text-foreground",
  ctx: "text-foreground/85",
  hunk: "bg-info-soft/60 text-info/90",
  file: "bg-muted font-semibold text-foreground",
  meta: "text-subtle-foreground",
  note: "italic text-subtle-foreground",
};

const markClass: Partial<Record<Kind, string>> = { add: "text-ok", del: "text-bad" };

const PAGE = 4000;

/** The diff as a reader wants it: numbered, added lines green, removed red, hunk headers muted. */
export function DiffView({ diff, className }: { diff: string; className?: string }) {
  const lines = React.useMemo(() => classifyDiff(diff), [diff]);
  const [limit, setLimit] = React.useState(PAGE);
  const shown = lines.length > limit ? lines.slice(0, limit) : lines;
  return (
    <div className={cn("scrollbar-thin max-h-[40rem] overflow-auto", className)} data-testid="diff-view" tabIndex={0} role="region" aria-label="Diff">
      <table className="w-full border-collapse font-mono text-[12px] leading-[1.6]">
        <tbody>
          {shown.map((l, i) => (
            <tr key={i} data-kind={l.kind} className={rowClass[l.kind]}>
              <td className="w-10 select-none border-r border-border px-2 text-right align-top tabular text-subtle-foreground/80">{l.oldNo ?? ""}</td>
              <td className="w-10 select-none border-r border-border px-2 text-right align-top tabular text-subtle-foreground/80">{l.newNo ?? ""}</td>
              <td className="whitespace-pre px-3">
                {l.kind === "add" || l.kind === "del" ? (
                  <>
                    <span className={cn("select-none", markClass[l.kind])}>{l.text[0]}</span>
                    {l.text.slice(1)}
                  </>
                ) : (
                  l.text || " "
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {lines.length > limit ? (
        <div className="sticky left-0 flex items-center gap-3 border-t border-border px-3 py-2 text-xs text-muted-foreground">
          Showing {limit.toLocaleString("en-US")} of {lines.length.toLocaleString("en-US")} lines.
          <Button size="sm" onClick={() => setLimit((n) => n + PAGE * 5)}>
            Show more
          </Button>
        </div>
      ) : null}
    </div>
  );
}
