import * as React from "react";
import { X } from "lucide-react";
import { cn } from "./cn";

const chipSize = {
  /** An active filter above a list. */
  md: "h-6 gap-1 pl-2 text-xs",
  /** A value picked in a form. */
  sm: "h-5 gap-0.5 pl-1.5 text-[11px]",
  /** Around a chip that brings its own size (a label chip). */
  fit: "gap-0.5",
};

/** A picked value or an active filter, with an × that removes it. */
export function RemovableChip({
  children,
  removeLabel,
  onRemove,
  size = "md",
  className,
  buttonClassName,
  testId,
}: {
  children: React.ReactNode;
  removeLabel: string;
  onRemove: () => void;
  size?: keyof typeof chipSize;
  className?: string;
  buttonClassName?: string;
  testId?: string;
}) {
  return (
    <span className={cn("inline-flex items-center rounded border border-primary/25 bg-accent pr-0.5 text-accent-foreground", chipSize[size], className)} data-testid={testId}>
      {children}
      <button type="button" aria-label={removeLabel} onClick={onRemove} className={cn("rounded p-0.5 hover:bg-card", buttonClassName)}>
        <X className="size-3" />
      </button>
    </span>
  );
}
