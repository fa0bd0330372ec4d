import type { PatchSummary } from "@/lib/api/schemas";
import type { Impact, Verdict } from "@/lib/analysis/types";
import { Badge, StatusBadge, type Tone } from "../ui/badge";
import { cn } from "../ui/cn";

type Severity = PatchSummary["severity"];

export const SEVERITIES: Severity[] = ["critical", "high", "medium", "low"];

// Critical and high are both "red family"; high is the orange step between red and amber.
const severityClass: Record<Severity, string> = {
  critical: "bg-bad text-white border-bad dark:bg-[#b42323] dark:border-[#b42323]",
  high: "bg-orange-soft text-orange border-orange/30",
  medium: "bg-warn-soft text-warn border-warn/25",
  low: "bg-off-soft text-off border-off/20",
};

export function SeverityBadge({ severity, className }: { severity: Severity; className?: string }) {
  return (
    <Badge data-testid="severity" data-severity={severity} className={cn("capitalize", severityClass[severity], className)}>
      {severity}
    </Badge>
  );
}

export const verdictTone: Record<Verdict, Tone> = {
  "hot-patchable": "ok",
  "needs-review": "warn",
  "requires-reboot": "bad",
};

export const verdictHint: Record<Verdict, string> = {
  "hot-patchable": "Changes code only: it can be applied to a running kernel.",
  "needs-review": "May be live-patchable, but a person should check the reasons first.",
  "requires-reboot": "Changes data layout or meaning: no live patch can apply it safely.",
};

export function VerdictBadge({ verdict, className }: { verdict: Verdict; className?: string }) {
  return (
    <span data-testid="verdict" data-verdict={verdict} className="inline-flex">
      <StatusBadge tone={verdictTone[verdict]} className={className}>
        {verdict}
      </StatusBadge>
    </span>
  );
}

export const impactTone: Record<Impact, Tone> = { none: "neutral", review: "warn", reboot: "bad" };

export function CveChips({ cves, max, className }: { cves: string[]; max?: number; className?: string }) {
  if (cves.length === 0) return <span className="text-subtle-foreground">—</span>;
  const shown = max ? cves.slice(0, max) : cves;
  const rest = cves.length - shown.length;
  return (
    <span className={cn("inline-flex min-w-0 flex-wrap items-center gap-1", className)}>
      {shown.map((c) => (
        <Badge key={c} mono data-testid="cve">
          {c}
        </Badge>
      ))}
      {rest > 0 ? <span className="text-xs text-subtle-foreground" title={cves.slice(shown.length).join(", ")}>+{rest}</span> : null}
    </span>
  );
}
