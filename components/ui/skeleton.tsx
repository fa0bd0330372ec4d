import type * as React from "react";
import { cn } from "./cn";

export function Skeleton({ className, style }: { className?: string; style?: React.CSSProperties }) {
  return <div aria-hidden="true" style={style} className={cn("animate-pulse rounded bg-muted", className)} />;
}

/** A detail page while it loads: breadcrumb, title, then two panels laid out as the page will be. */
export function DetailPageSkeleton({ titleClassName, gridClassName, mainClassName }: { titleClassName: string; gridClassName: string; mainClassName?: string }) {
  return (
    <div aria-busy="true">
      <Skeleton className="mb-2 h-3 w-32" />
      <Skeleton className={cn("mb-6 h-6", titleClassName)} />
      <div className={cn("grid gap-4", gridClassName)}>
        <Skeleton className={cn("h-56", mainClassName)} />
        <Skeleton className="h-56" />
      </div>
    </div>
  );
}
