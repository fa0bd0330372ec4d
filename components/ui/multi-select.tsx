"use client";
import * as React from "react";
import { Check, ChevronDown, Search } from "lucide-react";
import { Popover, PopoverContent, PopoverTrigger } from "./popover";
import { Input } from "./input";
import { RemovableChip } from "./chip";
import { cn } from "./cn";
import { numberFmt } from "./time";

export interface MultiSelectOption {
  value: string;
  label: string;
  count: number;
}

/** Pick several values, each with a count; the picked ones show as removable chips under the trigger. */
export function MultiSelect({
  id,
  icon,
  placeholder,
  options,
  value,
  onChange,
  mono,
  testId,
  noMatch = "Nothing matches.",
}: {
  id: string;
  icon: React.ReactNode;
  placeholder: string;
  options: MultiSelectOption[];
  value: string[];
  onChange: (v: string[]) => void;
  mono?: boolean;
  testId?: string;
  /** Said when the filter text matches no option. */
  noMatch?: string;
}) {
  const [q, setQ] = React.useState("");
  const all = [...options];
  // A picked value that is no longer an option (from an old selector) stays visible and removable.
  for (const v of value) if (!all.some((o) => o.value === v)) all.push({ value: v, label: v, count: 0 });
  const t = q.trim().toLowerCase();
  const shown = all.filter((o) => !t || o.label.toLowerCase().includes(t) || o.value.toLowerCase().includes(t));
  const toggle = (v: string) => onChange(value.includes(v) ? value.filter((x) => x !== v) : [...value, v]);
  return (
    <div className="flex flex-col gap-1.5">
      <Popover onOpenChange={(o) => !o && setQ("")}>
        <PopoverTrigger asChild>
          <button
            id={id}
            type="button"
            data-testid={testId}
            className="inline-flex h-8 w-full items-center gap-2 rounded-md border border-input bg-card px-2.5 text-left text-[13px] shadow-sm shadow-black/[0.02] hover:border-border-strong focus-visible:border-ring focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring/25"
          >
            <span className="text-subtle-foreground [&_svg]:size-3.5">{icon}</span>
            <span className={cn("min-w-0 flex-1 truncate", value.length === 0 && "text-subtle-foreground")}>
              {value.length === 0 ? placeholder : `${value.length} selected`}
            </span>
            <ChevronDown className="size-3.5 text-subtle-foreground" />
          </button>
        </PopoverTrigger>
        <PopoverContent className="w-[var(--radix-popover-trigger-width)] min-w-72 p-0">
          <div className="relative border-b border-border p-2">
            <Search className="pointer-events-none absolute left-4 top-1/2 size-3.5 -translate-y-1/2 text-subtle-foreground" />
            <Input autoFocus value={q} onChange={(e) => setQ(e.target.value)} placeholder="Filter…" className="pl-7" aria-label={`Filter ${placeholder}`} />
          </div>
          <div className="scrollbar-thin max-h-64 overflow-y-auto p-1" role="listbox" aria-multiselectable="true">
            {shown.length === 0 ? (
              <p className="px-2 py-2 text-xs text-muted-foreground">{noMatch}</p>
            ) : (
              shown.map((o) => {
                const on = value.includes(o.value);
                return (
                  <button
                    key={o.value}
                    type="button"
                    role="option"
                    aria-selected={on}
                    data-value={o.value}
                    onClick={() => toggle(o.value)}
                    className="flex h-7 w-full items-center gap-2 rounded px-2 text-left text-[13px] hover:bg-muted focus-visible:bg-muted focus-visible:outline-none"
                  >
                    <span className={cn("flex size-3.5 shrink-0 items-center justify-center rounded-[3px] border", on ? "border-primary bg-primary text-primary-foreground" : "border-border-strong")}>
                      {on ? <Check className="size-2.5" strokeWidth={3} /> : null}
                    </span>
                    <span className={cn("min-w-0 flex-1 truncate", mono && "font-mono text-xs")}>{o.label}</span>
                    <span className="text-xs tabular text-subtle-foreground">{numberFmt.format(o.count)}</span>
                  </button>
                );
              })
            )}
          </div>
        </PopoverContent>
      </Popover>
      {value.length > 0 ? (
        <div className="flex flex-wrap gap-1">
          {value.map((v) => (
            <RemovableChip key={v} size="sm" removeLabel={`Remove ${v}`} onRemove={() => toggle(v)}>
              <span className={cn(mono && "font-mono")}>{all.find((o) => o.value === v)?.label ?? v}</span>
            </RemovableChip>
          ))}
        </div>
      ) : null}
    </div>
  );
}
