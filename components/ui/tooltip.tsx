"use client";
import * as React from "react";
import * as TooltipPrimitive from "@radix-ui/react-tooltip";
import { cn } from "./cn";

export const TooltipProvider = TooltipPrimitive.Provider;

/** Hover/focus hint. `content` empty renders the child alone. */
export function Tooltip({
  content,
  children,
  side = "top",
  align = "center",
  className,
}: {
  content: React.ReactNode;
  children: React.ReactElement;
  side?: "top" | "bottom" | "left" | "right";
  align?: "start" | "center" | "end";
  className?: string;
}) {
  if (content === null || content === undefined || content === "") return children;
  return (
    <TooltipPrimitive.Root>
      <TooltipPrimitive.Trigger asChild>{children}</TooltipPrimitive.Trigger>
      <TooltipPrimitive.Portal>
        <TooltipPrimitive.Content
          side={side}
          align={align}
          sideOffset={6}
          className={cn(
            "z-50 max-w-xs animate-fade-in rounded-md border border-border-strong bg-card px-2 py-1 text-xs text-foreground shadow-lg shadow-black/10",
            className,
          )}
        >
          {content}
        </TooltipPrimitive.Content>
      </TooltipPrimitive.Portal>
    </TooltipPrimitive.Root>
  );
}

/** "+N" for what a compact list leaves out; the rest shows on hover or focus. */
export function MoreInTooltip({ count, children }: { count: number; children: React.ReactNode }) {
  return (
    <Tooltip content={children}>
      <span tabIndex={0} className="shrink-0 rounded px-1 text-[11px] text-muted-foreground hover:text-foreground">
        +{count}
      </span>
    </Tooltip>
  );
}
