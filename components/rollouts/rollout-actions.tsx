"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import { CheckCheck, OctagonX, Pause, Play, Undo2 } from "lucide-react";
import type { RolloutDetail } from "@/lib/api/schemas";
import { plainMessage } from "../api";
import { useOperator } from "../hooks/operator-context";
import { Button } from "../ui/button";
import { ReasonConfirmDialog } from "../ui/reason-confirm";
import { numberFmt } from "../ui/time";
import { IN_FLIGHT_HOST_STATES } from "@/lib/rollouts/states";
import { sumCounts } from "./rollout-state";
import { useRolloutAction, type RolloutAction } from "../hooks/use-rollouts";

interface ActionCopy {
  title: string;
  body: React.ReactNode;
  confirm: string;
  danger?: boolean;
}

function copy(action: RolloutAction, r: RolloutDetail): ActionCopy {
  const n = `rollout ${r.number}`;
  const inFlight = sumCounts(r.counts, IN_FLIGHT_HOST_STATES);
  const applied = (r.counts.succeeded ?? 0) + inFlight;
  switch (action) {
    case "pause":
      return {
        title: `Pause ${n}?`,
        body: `No more hosts are dispatched.${inFlight > 0 ? ` The ${numberFmt.format(inFlight)} in flight finish and report.` : ""} Resume whenever you are ready.`,
        confirm: "Pause",
      };
    case "resume":
      return {
        title: `Resume ${n}?`,
        body:
          r.pauseKind === "failures"
            ? `${numberFmt.format(r.failures)} ${r.failures === 1 ? "host has" : "hosts have"} failed against a budget of ${numberFmt.format(r.failureBudget)}. Resuming accepts these failures; the budget counts again from here.`
            : "Dispatching continues with the next hosts of the current wave.",
        confirm: "Resume",
      };
    case "approve":
      return {
        title: `Approve ${n}?`,
        body: `The canary is done (${numberFmt.format(r.counts.succeeded ?? 0)} succeeded). The remaining waves start now.`,
        confirm: "Approve and continue",
      };
    case "abort":
      return {
        title: `Abort ${n}?`,
        body: `No more hosts are dispatched; hosts in flight finish, the rest end as skipped. The patch stays where it was applied: roll back to take it off.`,
        confirm: "Abort rollout",
        danger: true,
      };
    case "rollback":
      return {
        title: `Roll back ${n}?`,
        body: (
          <>
            Reverts the patch on every host where this rollout applied it{applied > 0 ? <> (up to {numberFmt.format(applied)})</> : null}, as a new rollout with a result per
            host and the same waves and limits.{r.status === "running" || r.status === "paused" ? " This rollout is aborted first." : ""}
          </>
        ),
        confirm: "Roll back",
        danger: true,
      };
  }
}

const ICON: Record<RolloutAction, React.ReactNode> = {
  pause: <Pause />,
  resume: <Play />,
  approve: <CheckCheck />,
  abort: <OctagonX />,
  rollback: <Undo2 />,
};

/** Which actions make sense now; the server decides in the end (and says why not). */
export function availableActions(r: RolloutDetail): RolloutAction[] {
  const out: RolloutAction[] = [];
  if (r.status === "paused") out.push(r.pauseKind === "approval" ? "approve" : "resume");
  if (r.status === "running") out.push("pause");
  if (r.status === "running" || r.status === "paused") out.push("abort");
  if (r.kind === "apply" && !r.rollbackId) out.push("rollback");
  return out;
}

export function ActionButton({ action, onClick, primary }: { action: RolloutAction; onClick: () => void; primary?: boolean }) {
  const label = { pause: "Pause", resume: "Resume", approve: "Approve", abort: "Abort", rollback: "Roll back" }[action];
  const danger = action === "abort" || action === "rollback";
  return (
    <Button
      variant={primary ? "primary" : "secondary"}
      className={danger && !primary ? "text-bad hover:bg-bad-soft" : undefined}
      onClick={onClick}
      data-testid={`rollout-${action}`}
    >
      {ICON[action]} {label}
    </Button>
  );
}

/** The header's action buttons, each behind a confirmation with an optional reason for the audit log. */
export function RolloutActions({ r, pending, setPending }: { r: RolloutDetail; pending: RolloutAction | null; setPending: (a: RolloutAction | null) => void }) {
  const can = useOperator().can("operator");
  const router = useRouter();
  const mutation = useRolloutAction(r.id);
  React.useEffect(() => {
    if (pending) mutation.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pending]);
  if (!can) return null;
  const actions = availableActions(r);
  const c = pending ? copy(pending, r) : null;
  return (
    <>
      {/* Approve and Resume sit in the pause banner, next to the reason. */}
      {actions
        .filter((a) => a !== "approve" && a !== "resume")
        .map((a) => (
          <ActionButton key={a} action={a} onClick={() => setPending(a)} />
        ))}
      <ReasonConfirmDialog
        open={!!pending && !!c}
        onOpenChange={(o) => !o && setPending(null)}
        title={c?.title ?? ""}
        description={c?.body}
        danger={c?.danger}
        confirm={
          <>
            {pending ? ICON[pending] : null} {c?.confirm}
          </>
        }
        confirmTestId="rollout-action-confirm"
        reasonId="rollout-reason"
        reasonLabel="Reason (optional, recorded in the audit log)"
        placeholder="e.g. error rate up on web-03, INC-4411"
        pending={mutation.isPending}
        error={mutation.error ? plainMessage(mutation.error) : null}
        onConfirm={async (reason) => {
          const action = pending!;
          const res = await mutation.mutateAsync({ action, reason });
          if (action === "rollback") router.push(`/rollouts/${res.id}`);
        }}
      />
    </>
  );
}
