import { Card, CardHeader } from "../ui/card";
import { StatusDot, type Tone } from "../ui/badge";
import { formatDuration } from "../ui/time";

/** What the two numbers mean for a host's state, drawn as the path a silent host takes. */
export function PresenceExplainer({ heartbeatSec, staleAfterSec }: { heartbeatSec: number; staleAfterSec: number }) {
  // Mirrors the console's sweep: a host is marked offline after ~3 missed heartbeats (at least 90 s).
  const offlineAfter = Math.max(90, heartbeatSec * 3);
  const steps: { tone: Tone; title: string; when: string; text: string }[] = [
    { tone: "ok", title: "Online", when: "connected", text: `The agent holds a connection and sends a heartbeat every ${formatDuration(heartbeatSec)}.` },
    {
      tone: "off",
      title: "Offline",
      when: `after ${formatDuration(offlineAfter)} silent`,
      text: "The connection closed, or heartbeats stopped. Rollouts skip offline hosts.",
    },
    {
      tone: "warn",
      title: "Stale",
      when: `after ${formatDuration(staleAfterSec)} silent`,
      text: "Offline for long enough to need a look: listed on the fleet overview.",
    },
  ];
  return (
    <Card>
      <CardHeader title="What a silent host goes through" description="With the values on the left" />
      <ol className="p-4">
        {steps.map((s, i) => (
          <li key={s.title} className="relative flex gap-3 pb-4 last:pb-0">
            {i < steps.length - 1 ? <span className="absolute left-[5px] top-4 h-[calc(100%-0.75rem)] w-px bg-border" aria-hidden="true" /> : null}
            <StatusDot tone={s.tone} className="relative mt-1 size-[11px] ring-4 ring-card" />
            <div className="min-w-0">
              <div className="flex flex-wrap items-baseline gap-x-2">
                <span className="text-[13px] font-medium">{s.title}</span>
                <span className="text-xs tabular text-subtle-foreground">{s.when}</span>
              </div>
              <p className="mt-0.5 text-xs text-muted-foreground">{s.text}</p>
            </div>
          </li>
        ))}
      </ol>
    </Card>
  );
}
