"use client";
import * as React from "react";
import Link from "next/link";
import { Cell, Pie, PieChart, ResponsiveContainer, Tooltip } from "recharts";
import type { FleetSummary } from "@/lib/api/schemas";
import { ChartTooltipBox } from "./chart-tooltip";
import { numberFmt } from "../ui/time";

const COLORS = ["var(--chart-1)", "var(--chart-2)", "var(--chart-3)", "var(--chart-4)", "var(--chart-5)", "var(--chart-6)"];

interface Slice {
  id: string;
  name: string;
  count: number;
  color: string;
  other?: boolean;
}

/** Distribution share as a donut, with a legend that doubles as filter links. */
export function DistroChart({ distros, total }: { distros: FleetSummary["distros"]; total: number }) {
  const slices: Slice[] = React.useMemo(() => {
    const sorted = [...distros].sort((a, b) => b.count - a.count);
    const top: Slice[] = sorted.slice(0, 5).map((d, i) => ({ ...d, color: COLORS[i] }));
    const rest = sorted.slice(5);
    if (rest.length) top.push({ id: "", name: `${rest.length} others`, count: rest.reduce((s, d) => s + d.count, 0), color: COLORS[5], other: true });
    return top;
  }, [distros]);
  const sum = slices.reduce((s, d) => s + d.count, 0) || 1;

  return (
    <div className="flex flex-col items-center gap-4 sm:flex-row xl:flex-col xl:items-stretch">
      <div className="relative mx-auto size-[168px] shrink-0" role="img" aria-label={`Distributions: ${slices.map((s) => `${s.name} ${s.count}`).join(", ")}`}>
        <ResponsiveContainer width="100%" height="100%">
          <PieChart>
            <Pie
              data={slices}
              dataKey="count"
              nameKey="name"
              innerRadius={58}
              outerRadius={80}
              paddingAngle={slices.length > 1 ? 2 : 0}
              stroke="var(--card)"
              strokeWidth={2}
              isAnimationActive={false}
            >
              {slices.map((s) => (
                <Cell key={s.name} fill={s.color} />
              ))}
            </Pie>
            <Tooltip
              content={({ active, payload }) => {
                if (!active || !payload?.length) return null;
                const s = payload[0].payload as Slice;
                return (
                  <ChartTooltipBox
                    title={s.name}
                    rows={[{ color: s.color, label: "Hosts", value: `${numberFmt.format(s.count)} · ${Math.round((s.count / sum) * 100)}%` }]}
                  />
                );
              }}
            />
          </PieChart>
        </ResponsiveContainer>
        <div className="pointer-events-none absolute inset-0 flex flex-col items-center justify-center">
          <span className="text-xl font-semibold tabular leading-none">{numberFmt.format(total)}</span>
          <span className="mt-1 text-[10.5px] uppercase tracking-wider text-subtle-foreground">hosts</span>
        </div>
      </div>
      <ul className="w-full min-w-0 flex-1">
        {slices.map((s) => {
          const pct = Math.round((s.count / sum) * 100);
          const inner = (
            <>
              <span className="size-2.5 shrink-0 rounded-sm" style={{ background: s.color }} />
              <span className="min-w-0 flex-1 truncate">{s.name}</span>
              <span className="tabular text-muted-foreground">{numberFmt.format(s.count)}</span>
              <span className="w-10 text-right tabular text-subtle-foreground">{pct}%</span>
            </>
          );
          return (
            <li key={s.name} className="border-b border-border/70 last:border-b-0">
              {s.other ? (
                <div className="flex items-center gap-2.5 px-1.5 py-1.5 text-[13px]">{inner}</div>
              ) : (
                <Link href={`/hosts?distro=${encodeURIComponent(s.id)}`} className="flex items-center gap-2.5 rounded px-1.5 py-1.5 text-[13px] hover:bg-muted">
                  {inner}
                </Link>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
