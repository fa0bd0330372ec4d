import * as React from "react";
import { cn } from "./cn";

export function PageHeader({
  title,
  description,
  actions,
  breadcrumb,
  className,
  meta,
}: {
  title: React.ReactNode;
  description?: React.ReactNode;
  actions?: React.ReactNode;
  breadcrumb?: React.ReactNode;
  meta?: React.ReactNode;
  className?: string;
}) {
  return (
    <header className={cn("mb-5 flex flex-wrap items-end justify-between gap-x-6 gap-y-3", className)}>
      <div className="min-w-0">
        {breadcrumb ? <div className="mb-1.5 text-xs text-muted-foreground">{breadcrumb}</div> : null}
        <div className="flex min-w-0 flex-wrap items-center gap-2.5">
          <h1 className="truncate text-lg font-semibold tracking-[-0.01em] text-foreground">{title}</h1>
          {meta}
        </div>
        {description ? <p className="mt-1 max-w-3xl text-[13px] text-muted-foreground">{description}</p> : null}
      </div>
      {actions ? <div className="flex flex-wrap items-center gap-2">{actions}</div> : null}
    </header>
  );
}
