"use client";
import * as React from "react";
import * as SelectPrimitive from "@radix-ui/react-select";
import { Check, ChevronDown } from "lucide-react";
import { cn } from "./cn";

export interface SelectOption {
  value: string;
  label: React.ReactNode;
  hint?: React.ReactNode;
}

/** Radix cannot hold "" as a value: use ALL for "no filter". */
export const ALL = "__all__";

export function Select({
  value,
  onValueChange,
  options,
  placeholder,
  className,
  ariaLabel,
  prefix,
  mono,
  disabled,
  id,
}: {
  value: string;
  onValueChange: (v: string) => void;
  options: SelectOption[];
  placeholder?: string;
  className?: string;
  ariaLabel: string;
  prefix?: React.ReactNode;
  mono?: boolean;
  disabled?: boolean;
  id?: string;
}) {
  return (
    <SelectPrimitive.Root value={value} onValueChange={onValueChange} disabled={disabled}>
      <SelectPrimitive.Trigger
        id={id}
        aria-label={ariaLabel}
        className={cn(
          "inline-flex h-8 min-w-0 items-center justify-between gap-1.5 rounded-md border border-input bg-card px-2.5 text-[13px] shadow-sm shadow-black/[0.02]",
          "hover:border-border-strong focus-visible:outline-none focus-visible:border-ring focus-visible:ring-2 focus-visible:ring-ring/25",
          "data-[placeholder]:text-subtle-foreground disabled:opacity-50",
          className,
        )}
      >
        {prefix ? <span className="shrink-0 text-subtle-foreground">{prefix}</span> : null}
        <span className={cn("min-w-0 flex-1 truncate text-left", mono && "font-mono text-xs")}>
          <SelectPrimitive.Value placeholder={placeholder} />
        </span>
        <SelectPrimitive.Icon>
          <ChevronDown className="size-3.5 text-subtle-foreground" />
        </SelectPrimitive.Icon>
      </SelectPrimitive.Trigger>
      <SelectPrimitive.Portal>
        <SelectPrimitive.Content
          position="popper"
          sideOffset={4}
          className="z-50 max-h-[min(24rem,var(--radix-select-content-available-height))] min-w-[var(--radix-select-trigger-width)] animate-fade-in overflow-hidden rounded-md border border-border-strong bg-card shadow-xl shadow-black/10"
        >
          <SelectPrimitive.Viewport className="scrollbar-thin p-1">
            {options.map((o) => (
              <SelectPrimitive.Item
                key={o.value}
                value={o.value}
                data-value={o.value}
                className="relative flex h-7 cursor-default select-none items-center gap-2 rounded pl-7 pr-2 text-[13px] outline-none data-[highlighted]:bg-muted data-[state=checked]:font-medium"
              >
                <SelectPrimitive.ItemIndicator className="absolute left-2 inline-flex">
                  <Check className="size-3.5 text-primary" />
                </SelectPrimitive.ItemIndicator>
                <SelectPrimitive.ItemText>
                  <span className={cn(mono && o.value !== ALL && "font-mono text-xs")}>{o.label}</span>
                </SelectPrimitive.ItemText>
                {o.hint !== undefined ? (
                  <span className="ml-auto pl-4 text-xs tabular text-subtle-foreground">{o.hint}</span>
                ) : null}
              </SelectPrimitive.Item>
            ))}
          </SelectPrimitive.Viewport>
        </SelectPrimitive.Content>
      </SelectPrimitive.Portal>
    </SelectPrimitive.Root>
  );
}
