"use client";
import * as React from "react";
import { cn } from "./cn";
import { Dialog, DialogContent } from "./dialog";

/**
 * A job's log that follows its tail while the reader is at the bottom; scrolling up stops
 * following, and a new `followKey` (another build, another host) starts following again.
 */
export function FollowingLog({
  text,
  followKey,
  testId,
  className,
  loadError,
}: {
  text: string;
  followKey: string | undefined;
  testId: string;
  className?: string;
  /** Why the log could not be fetched; shown in its place. */
  loadError?: string;
}) {
  const box = React.useRef<HTMLPreElement>(null);
  const follow = React.useRef(true);
  React.useLayoutEffect(() => {
    const el = box.current;
    if (el && follow.current) el.scrollTop = el.scrollHeight;
  }, [text]);
  React.useEffect(() => {
    follow.current = true;
  }, [followKey]);
  if (loadError !== undefined) return <p className="text-[13px] text-bad">Could not load the log: {loadError}</p>;
  return (
    <pre
      ref={box}
      data-testid={testId}
      onScroll={(e) => {
        const el = e.currentTarget;
        follow.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
      }}
      className={cn(
        "scrollbar-thin overflow-auto whitespace-pre-wrap break-all rounded-md border border-border bg-muted/50 p-3 font-mono text-[11.5px] leading-relaxed text-foreground",
        className,
      )}
    >
      {text}
    </pre>
  );
}

/** A wide dialog about one job (a build, a host's part of a rollout), open while `item` is set. */
export function LogDialog<T>({
  item,
  onClose,
  className,
  title,
  description,
  children,
}: {
  item: T | null;
  onClose: () => void;
  className?: string;
  title: (t: T) => React.ReactNode;
  description: (t: T) => React.ReactNode;
  children: (t: T) => React.ReactNode;
}) {
  return (
    <Dialog open={!!item} onOpenChange={(o) => (o ? undefined : onClose())}>
      {item ? (
        <DialogContent className={cn("max-w-3xl", className)} title={<span className="flex items-center gap-2">{title(item)}</span>} description={description(item)}>
          {children(item)}
        </DialogContent>
      ) : null}
    </Dialog>
  );
}
