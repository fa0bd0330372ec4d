import type * as React from "react";
import { cn } from "./cn";

export function Skeleton({ className, style }: { className?: string; style?: React.CSSProperties }) {
  return <div aria-hidden="true" style={style} className={cn("animate-pulse rounded bg-muted", className)} />;
}
