"use client";
import { useQueryClient } from "@tanstack/react-query";
import { RotateCw, ShieldAlert, ShieldCheck } from "lucide-react";
import { useAuditVerify } from "../hooks/use-audit";
import { qk } from "../hooks/keys";
import { Tooltip } from "../ui/tooltip";
import { Button, Spinner } from "../ui/button";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";

/** The hash chain's state: green when every event's hash links to the one before. */
export function VerifyBadge() {
  const qc = useQueryClient();
  const { data, error, isFetching } = useAuditVerify(true);
  let tone: "ok" | "bad" | "off" = "off";
  let text = "Verifying chain…";
  let tip = "Recomputing every event's hash and its link to the previous one";
  if (data?.ok) {
    tone = "ok";
    text = `Chain verified · ${numberFmt.format(data.checked)} events`;
    tip = "Every event's hash matches its contents and links to the previous event: nothing was altered or removed.";
  } else if (data && !data.ok) {
    tone = "bad";
    text = data.firstBadSeq ? `Chain broken at #${data.firstBadSeq}` : "Chain broken";
    tip = "An event's stored hash does not match its contents or the previous event's hash: the log was altered at or before this event.";
  } else if (error) {
    tone = "off";
    text = "Could not verify";
    tip = error instanceof Error ? error.message : String(error);
  }
  return (
    <div className="flex items-center gap-1">
      <Tooltip content={tip} side="bottom">
        <span
          tabIndex={0}
          data-testid="audit-verify"
          data-ok={data ? String(data.ok) : undefined}
          className={cn(
            "inline-flex h-8 items-center gap-1.5 rounded-md border px-2.5 text-xs font-medium",
            tone === "ok" && "border-ok/30 bg-ok-soft text-ok",
            tone === "bad" && "border-bad/30 bg-bad-soft text-bad",
            tone === "off" && "border-border bg-muted text-muted-foreground",
          )}
        >
          {isFetching && !data ? <Spinner className="size-3.5" /> : tone === "bad" ? <ShieldAlert className="size-3.5" /> : <ShieldCheck className="size-3.5" />}
          {text}
        </span>
      </Tooltip>
      <Tooltip content="Verify again" side="bottom">
        <Button size="icon" variant="ghost" aria-label="Verify the audit chain again" disabled={isFetching} onClick={() => void qc.invalidateQueries({ queryKey: qk.auditVerify })}>
          <RotateCw className={isFetching ? "animate-spin" : undefined} />
        </Button>
      </Tooltip>
    </div>
  );
}
