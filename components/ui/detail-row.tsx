import * as React from "react";
import { cn } from "./cn";
import { CopyButton } from "./copy-button";

/** One labelled line of a detail card's `<dl>`, with a copy button on hover when `copy` is given. */
export function DetailRow({ label, children, copy, mono, labelWidth = "8rem" }: { label: string; children: React.ReactNode; copy?: string; mono?: boolean; labelWidth?: "7rem" | "8rem" }) {
  return (
    <div className={cn("group grid min-h-9 items-center gap-3 border-b border-border px-4 py-1.5 last:border-b-0", labelWidth === "7rem" ? "grid-cols-[7rem_1fr]" : "grid-cols-[8rem_1fr]")}>
      <dt className="text-xs text-muted-foreground">{label}</dt>
      <dd className={cn("flex min-w-0 items-center gap-2 text-[13px]", mono && "font-mono text-xs")}>
        <span className="min-w-0 break-all">{children}</span>
        {copy ? (
          <CopyButton text={copy} label={`Copy ${label.toLowerCase()}`} className="h-6 w-6 opacity-0 transition-opacity group-hover:opacity-100 focus-visible:opacity-100" />
        ) : null}
      </dd>
    </div>
  );
}
