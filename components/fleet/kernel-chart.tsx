"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import { Bar, BarChart, CartesianGrid, LabelList, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { FleetSummary } from "@/lib/api/schemas";
import { ChartTooltipBox } from "./chart-tooltip";
import { numberFmt } from "../ui/time";

const MAX_ROWS = 14;

interface Row {
  kernelRelease: string;
  online: number;
  offline: number;
  total: number;
}

function KernelTick(props: { x?: number | string; y?: number | string; payload?: { value: string } }) {
  const { x = 0, y = 0, payload } = props;
  const v = payload?.value ?? "";
  return (
    <text x={Number(x) - 8} y={Number(y)} dy={4} textAnchor="end" fontSize={11.5} fill="var(--foreground)" style={{ fontFamily: "var(--font-mono)" }}>
      {v.length > 30 ? v.slice(0, 29) + "…" : v}
      <title>{v}</title>
    </text>
  );
}

interface LabelProps {
  x?: number | string;
  y?: number | string;
  width?: number | string;
  height?: number | string;
  index?: number;
}

/** The row's total, drawn once at the end of whichever segment is last (offline may be empty). */
function TotalLabel({ x = 0, y = 0, width = 0, height = 0, index = 0, rows, last }: LabelProps & { rows: Row[]; last: "online" | "offline" }) {
  const r = rows[index];
  if (!r) return null;
  const isLast = last === "offline" ? r.offline > 0 : r.offline === 0;
  if (!isLast) return null;
  return (
    <text x={Number(x) + Number(width) + 8} y={Number(y) + Number(height) / 2} dy={4} fontSize={11} fill="var(--muted-foreground)" style={{ fontVariantNumeric: "tabular-nums" }}>
      {numberFmt.format(r.total)}
    </text>
  );
}

/** The two stacked segments of a row, online first; each opens the hosts on that release. */
const SEGMENTS: { key: "online" | "offline"; fill: string; fillOpacity?: number; radius: [number, number, number, number] }[] = [
  { key: "online", fill: "var(--ok)", fillOpacity: 0.85, radius: [3, 0, 0, 3] },
  { key: "offline", fill: "var(--chart-muted)", radius: [0, 3, 3, 0] },
];

/** Hosts per running kernel release: the number that decides how many builds a patch needs. */
export function KernelChart({ kernels }: { kernels: FleetSummary["kernels"] }) {
  const router = useRouter();
  const rows: Row[] = React.useMemo(
    () =>
      [...kernels]
        .sort((a, b) => b.count - a.count || a.kernelRelease.localeCompare(b.kernelRelease))
        .slice(0, MAX_ROWS)
        .map((k) => ({ kernelRelease: k.kernelRelease, online: k.online, offline: Math.max(0, k.count - k.online), total: k.count })),
    [kernels],
  );
  const longest = rows.reduce((m, r) => Math.max(m, Math.min(r.kernelRelease.length, 30)), 10);
  const yWidth = Math.min(240, 16 + longest * 7.2);
  const height = Math.max(120, rows.length * 30 + 36);

  return (
    <div style={{ height }} className="w-full" role="img" aria-label={`Hosts per kernel release: ${rows.map((r) => `${r.kernelRelease} ${r.total}`).join(", ")}`}>
      <ResponsiveContainer width="100%" height="100%">
        <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 36, bottom: 0, left: 0 }} barCategoryGap={7}>
          <CartesianGrid horizontal={false} stroke="var(--border)" strokeDasharray="3 3" />
          <XAxis
            type="number"
            allowDecimals={false}
            tickLine={false}
            axisLine={false}
            tick={{ fontSize: 11, fill: "var(--subtle-foreground)" }}
            tickFormatter={(v: number) => numberFmt.format(v)}
          />
          <YAxis type="category" dataKey="kernelRelease" width={yWidth} tickLine={false} axisLine={false} tick={<KernelTick />} interval={0} />
          <Tooltip
            cursor={{ fill: "var(--muted)", opacity: 0.7 }}
            content={({ active, payload }) => {
              if (!active || !payload?.length) return null;
              const r = payload[0].payload as Row;
              return (
                <ChartTooltipBox
                  mono
                  title={r.kernelRelease}
                  rows={[
                    { color: "var(--ok)", label: "Online", value: numberFmt.format(r.online) },
                    { color: "var(--chart-muted)", label: "Offline", value: numberFmt.format(r.offline) },
                    { color: "transparent", label: "Total", value: numberFmt.format(r.total) },
                  ]}
                />
              );
            }}
          />
          {SEGMENTS.map(({ key, ...look }) => (
            <Bar
              key={key}
              dataKey={key}
              stackId="k"
              {...look}
              cursor="pointer"
              isAnimationActive={false}
              onClick={(d: unknown) => {
                const r = (d as { payload?: Row })?.payload;
                if (r) router.push(`/hosts?kernel=${encodeURIComponent(r.kernelRelease)}`);
              }}
            >
              <LabelList dataKey="total" content={(p) => <TotalLabel {...(p as LabelProps)} rows={rows} last={key} />} />
            </Bar>
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
