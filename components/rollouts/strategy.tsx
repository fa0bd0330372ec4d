"use client";
import type { RolloutStrategy, RolloutStrategyInput } from "@/lib/api/schemas";
import { issueAt } from "../api";
import { Field, Input } from "../ui/input";
import { cn } from "../ui/cn";
import { countOf, formatDuration, numberFmt } from "../ui/time";

/** The strategy as typed: every field a string (or the checkbox), converted when asked. */
export interface StrategyDraft {
  canary: string;
  waves: string;
  maxInFlight: string;
  failureBudget: string;
  pauseAfterCanary: boolean;
  waitBetweenWavesSec: string;
  hostTimeoutSec: string;
}

export const DEFAULT_DRAFT: StrategyDraft = {
  canary: "1",
  waves: "25%",
  maxInFlight: "50",
  failureBudget: "0",
  pauseAfterCanary: false,
  waitBetweenWavesSec: "0",
  hostTimeoutSec: "120",
};

/** A whole number stays a number; anything else goes as typed, so the server names the problem. */
const num = (s: string): number | string => (/^\s*\d+\s*$/.test(s) ? Number(s) : s.trim());
const countOrPercent = (s: string): number | string => (/^\s*\d+\s*$/.test(s) ? Number(s) : s.replace(/\s+/g, ""));

export function draftToStrategy(d: StrategyDraft): RolloutStrategyInput {
  return {
    canary: num(d.canary),
    waves: countOrPercent(d.waves),
    maxInFlight: num(d.maxInFlight),
    failureBudget: countOrPercent(d.failureBudget),
    pauseAfterCanary: d.pauseAfterCanary,
    waitBetweenWavesSec: num(d.waitBetweenWavesSec),
    hostTimeoutSec: num(d.hostTimeoutSec),
  } as RolloutStrategyInput;
}

export function isDefaultDraft(d: StrategyDraft): boolean {
  return (Object.keys(DEFAULT_DRAFT) as (keyof StrategyDraft)[]).every((k) => String(d[k]).trim() === String(DEFAULT_DRAFT[k]));
}

const FIELDS: { key: Exclude<keyof StrategyDraft, "pauseAfterCanary">; label: string; hint: string; placeholder: string; suffix?: string }[] = [
  { key: "canary", label: "Canary hosts", hint: "Patched first, on their own", placeholder: "1" },
  { key: "waves", label: "Wave size", hint: "Hosts or a share, e.g. 25%", placeholder: "25%" },
  { key: "maxInFlight", label: "Max in flight", hint: "Hosts being patched at once", placeholder: "50" },
  { key: "failureBudget", label: "Failure budget", hint: "Failures tolerated; one more pauses", placeholder: "0 or 5%" },
  { key: "waitBetweenWavesSec", label: "Wait between waves", hint: "Seconds", placeholder: "0", suffix: "s" },
  { key: "hostTimeoutSec", label: "Host timeout", hint: "Seconds before a host is failed", placeholder: "120", suffix: "s" },
];

/** The strategy form; the server's validation message shows under the field it is about. */
export function StrategyEditor({ draft, onChange, error }: { draft: StrategyDraft; onChange: (d: StrategyDraft) => void; error: unknown }) {
  return (
    <div className="flex flex-col gap-3" data-testid="strategy-editor">
      <div className="grid grid-cols-2 gap-x-3 gap-y-3 sm:grid-cols-3">
        {FIELDS.map((f) => {
          const msg = issueAt(error, "strategy", f.key);
          return (
            <Field key={f.key} label={f.label} htmlFor={`strategy-${f.key}`} error={msg} hint={f.hint}>
              <div className="relative">
                <Input
                  id={`strategy-${f.key}`}
                  value={draft[f.key]}
                  onChange={(e) => onChange({ ...draft, [f.key]: e.target.value })}
                  placeholder={f.placeholder}
                  inputMode={f.key === "waves" || f.key === "failureBudget" ? "text" : "numeric"}
                  aria-invalid={!!msg}
                  className={cn("font-mono text-xs tabular", f.suffix && "pr-6")}
                  data-testid={`strategy-${f.key}`}
                />
                {f.suffix ? <span className="pointer-events-none absolute right-2.5 top-1/2 -translate-y-1/2 text-xs text-subtle-foreground">{f.suffix}</span> : null}
              </div>
            </Field>
          );
        })}
      </div>
      <label className="flex cursor-pointer items-start gap-2 text-[13px]">
        <input
          type="checkbox"
          checked={draft.pauseAfterCanary}
          onChange={(e) => onChange({ ...draft, pauseAfterCanary: e.target.checked })}
          className="mt-0.5 size-3.5 accent-[var(--primary)]"
          data-testid="strategy-pauseAfterCanary"
        />
        <span>
          Pause after the canary until an operator approves
          {issueAt(error, "strategy", "pauseAfterCanary") ? (
            <span className="block text-xs text-bad" role="alert">
              {issueAt(error, "strategy", "pauseAfterCanary")}
            </span>
          ) : null}
        </span>
      </label>
    </div>
  );
}

const spec = (v: number | string) => (typeof v === "number" ? numberFmt.format(v) : v);

/** A strategy in one line of plain words, for headers and summaries. */
export function strategyWords(s: RolloutStrategy): string[] {
  return [
    s.canary > 0 ? `${countOf(s.canary, "canary host")}${s.pauseAfterCanary ? ", then wait for approval" : ""}` : "no canary",
    `waves of ${spec(s.waves)}`,
    `at most ${numberFmt.format(s.maxInFlight)} in flight`,
    s.failureBudget === 0 || s.failureBudget === "0%" ? "stop at the first failure" : `tolerate ${spec(s.failureBudget)} failures`,
    ...(s.waitBetweenWavesSec > 0 ? [`${formatDuration(s.waitBetweenWavesSec)} between waves`] : []),
    `${formatDuration(s.hostTimeoutSec)} per host`,
  ];
}

/** "1 canary → 25 → 25 → 25": a rollout's waves as a compact sequence with proportional blocks. */
export function WaveSequence({ waves, className, current }: { waves: number[]; className?: string; current?: number }) {
  const max = Math.max(1, ...waves);
  // Long plans: the first few, an ellipsis, the last one.
  // Wave 0 is the canary; with no canary it is empty and not drawn.
  const keys = [...waves.keys()].filter((i) => !(i === 0 && waves[0] === 0));
  const idx = keys.length > 9 ? keys.slice(0, 6).concat([-1, keys[keys.length - 1]]) : keys;
  return (
    <ol className={cn("flex flex-wrap items-end gap-1.5", className)} data-testid="wave-sequence" aria-label="Waves">
      {idx.map((i, n) =>
        i === -1 ? (
          <li key="gap" className="pb-0.5 text-xs text-subtle-foreground">
            … {keys.length - 7} more …
          </li>
        ) : (
          <li key={i} className="flex items-end gap-1.5">
            {n > 0 ? <span className="pb-0.5 text-xs text-subtle-foreground">→</span> : null}
            <span className="flex flex-col items-center gap-1">
              <span
                className={cn(
                  "w-7 rounded-sm",
                  i === 0 ? "bg-warn/70" : "bg-primary/60",
                  current !== undefined && i < current && "opacity-40",
                  current === i && "ring-2 ring-ring/40",
                )}
                style={{ height: `${6 + (waves[i] / max) * 18}px` }}
              />
              <span className="text-[11px] leading-none tabular text-muted-foreground">
                {numberFmt.format(waves[i])}
                {i === 0 ? <span className="text-subtle-foreground"> canary</span> : null}
              </span>
            </span>
          </li>
        ),
      )}
    </ol>
  );
}
