"use client";
import * as React from "react";
import * as DM from "@radix-ui/react-dropdown-menu";
import { cn } from "./cn";

export const DropdownMenu = DM.Root;
export const DropdownMenuTrigger = DM.Trigger;

export function DropdownMenuContent({
  className,
  align = "end",
  children,
}: {
  className?: string;
  align?: "start" | "center" | "end";
  children: React.ReactNode;
}) {
  return (
    <DM.Portal>
      <DM.Content
        align={align}
        sideOffset={6}
        className={cn(
          "z-50 min-w-44 animate-fade-in rounded-md border border-border-strong bg-card p-1 text-[13px] shadow-xl shadow-black/10",
          className,
        )}
      >
        {children}
      </DM.Content>
    </DM.Portal>
  );
}

export function DropdownMenuItem({
  className,
  ...props
}: React.ComponentProps<typeof DM.Item>) {
  return (
    <DM.Item
      className={cn(
        "flex h-7 cursor-default select-none items-center gap-2 rounded px-2 outline-none data-[highlighted]:bg-muted data-[disabled]:opacity-50 [&_svg]:size-3.5 [&_svg]:text-muted-foreground",
        className,
      )}
      {...props}
    />
  );
}

export function DropdownMenuLabel({ className, ...props }: React.ComponentProps<typeof DM.Label>) {
  return <DM.Label className={cn("px-2 py-1.5 text-xs text-muted-foreground", className)} {...props} />;
}

export function DropdownMenuSeparator() {
  return <DM.Separator className="my-1 h-px bg-border" />;
}

export const DropdownMenuRadioGroup = DM.RadioGroup;
export function DropdownMenuRadioItem({ className, children, ...props }: React.ComponentProps<typeof DM.RadioItem>) {
  return (
    <DM.RadioItem
      className={cn(
        "relative flex h-7 cursor-default select-none items-center gap-2 rounded pl-7 pr-2 outline-none data-[highlighted]:bg-muted [&_svg]:size-3.5",
        className,
      )}
      {...props}
    >
      <DM.ItemIndicator className="absolute left-2 inline-flex">
        <span className="size-1.5 rounded-full bg-primary" />
      </DM.ItemIndicator>
      {children}
    </DM.RadioItem>
  );
}

/** One choice among a few, as radio items; an option's `hint` sits at the right. */
export function DropdownMenuRadioOptions({
  value,
  onValueChange,
  options,
  disabled,
}: {
  value: string;
  onValueChange: (v: string) => void;
  options: readonly { value: string; label: React.ReactNode; hint?: React.ReactNode }[];
  disabled?: boolean;
}) {
  return (
    <DM.RadioGroup value={value} onValueChange={onValueChange}>
      {options.map((o) => (
        <DropdownMenuRadioItem key={o.value} value={o.value} disabled={disabled}>
          {o.label}
          {o.hint !== undefined ? <span className="ml-auto text-xs text-subtle-foreground">{o.hint}</span> : null}
        </DropdownMenuRadioItem>
      ))}
    </DM.RadioGroup>
  );
}
