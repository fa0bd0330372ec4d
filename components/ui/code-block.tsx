import * as React from "react";
import { CopyButton } from "./copy-button";
import { cn } from "./cn";

/** A shell snippet with a copy button. `display` may highlight parts; `text` is what gets copied. */
export function CodeBlock({ text, display, className, label = "Copy", testId }: { text: string; display?: React.ReactNode; className?: string; label?: string; testId?: string }) {
  return (
    <div className={cn("group relative rounded-md border border-border bg-muted/60 dark:bg-black/30", className)}>
      <pre
        data-testid={testId}
        className="scrollbar-thin overflow-x-auto whitespace-pre py-3 pl-3.5 pr-12 font-mono text-[12px] leading-[1.65] text-foreground"
      >
        {display ?? text}
      </pre>
      <CopyButton text={text} label={label} className="absolute right-2 top-2" />
    </div>
  );
}
