import * as React from "react";

export function ChartTooltipBox({ title, rows, mono }: { title: React.ReactNode; rows: { color: string; label: string; value: React.ReactNode }[]; mono?: boolean }) {
  return (
    <div className="min-w-40 rounded-md border border-border-strong bg-card px-3 py-2 text-xs shadow-xl shadow-black/10">
      <div className={mono ? "mb-1.5 font-mono text-[11px] font-medium" : "mb-1.5 font-medium"}>{title}</div>
      {rows.map((r) => (
        <div key={r.label} className="flex items-center gap-2 py-0.5 text-muted-foreground">
          <span className="size-2 rounded-sm" style={{ background: r.color }} />
          <span>{r.label}</span>
          <span className="ml-auto pl-4 font-medium tabular text-foreground">{r.value}</span>
        </div>
      ))}
    </div>
  );
}
