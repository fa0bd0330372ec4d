"use client";
import { useQueryClient } from "@tanstack/react-query";
import { RotateCw, ShieldAlert, ShieldCheck } from "lucide-react";
import { useAuditVerify } from "../hooks/use-audit";
import { qk } from "../hooks/keys";
import { Tooltip } from "../ui/tooltip";
import { Button, Spinner } from "../ui/button";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";

/** The hash chain's state: green when every event's hash links to the one before and the anchors outside the database agree. */
export function VerifyBadge() {
  const qc = useQueryClient();
  const { data, error, isFetching } = useAuditVerify(true);
  let tone: "ok" | "bad" | "off" = "off";
  let text = "Verifying chain…";
  let tip = "Recomputing every event's hash, its link to the previous one, its MAC and the signed checkpoints";
  if (data?.ok) {
    tone = "ok";
    const latest = data.anchor.latest;
    text = `Chain verified · ${numberFmt.format(data.checked)} events`;
    tip =
      "Every event's hash matches its contents, links to the previous event and carries a valid MAC, and every signed checkpoint is still in the log: nothing was altered or removed." +
      (latest ? ` Newest checkpoint: #${latest.seq} at ${latest.at}.` : "");
  } else if (data && !data.ok) {
    tone = "bad";
    text = data.problem === "truncated" ? "Newest events removed" : data.firstBadSeq ? `Chain broken at #${data.firstBadSeq}` : data.problem === "key_missing" ? "Cannot verify" : "Chain broken";
    tip = data.reason ?? "The log does not match its anchors.";
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
