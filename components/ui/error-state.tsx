"use client";
import { AlertTriangle, RotateCw } from "lucide-react";
import { Button } from "./button";
import { cn } from "./cn";

export function ErrorState({
  error,
  title = "Could not load this",
  onRetry,
  className,
  compact,
}: {
  error: unknown;
  title?: string;
  onRetry?: () => void;
  className?: string;
  compact?: boolean;
}) {
  const message = error instanceof Error ? error.message : String(error ?? "Unknown error");
  return (
    <div role="alert" className={cn("flex flex-col items-center justify-center text-center", compact ? "px-4 py-6" : "px-6 py-14", className)}>
      <div className="mb-3 flex size-10 items-center justify-center rounded-lg border border-bad/25 bg-bad-soft text-bad">
        <AlertTriangle className="size-5" />
      </div>
      <h3 className="text-sm font-semibold">{title}</h3>
      <p className="mt-1 max-w-md break-words text-[13px] text-muted-foreground">{message}</p>
      {onRetry ? (
        <Button size="sm" className="mt-4" onClick={onRetry}>
          <RotateCw /> Retry
        </Button>
      ) : null}
    </div>
  );
}

export function InlineError({ error, className }: { error: unknown; className?: string }) {
  if (!error) return null;
  const message = error instanceof Error ? error.message : String(error);
  return (
    <p role="alert" className={cn("flex items-start gap-1.5 rounded-md border border-bad/25 bg-bad-soft px-2.5 py-2 text-xs text-bad", className)}>
      <AlertTriangle className="mt-px size-3.5 shrink-0" />
      <span className="break-words">{message}</span>
    </p>
  );
}
