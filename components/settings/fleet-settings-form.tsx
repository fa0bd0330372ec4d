"use client";
import * as React from "react";
import { Check } from "lucide-react";
import { SettingsSchema, type Settings } from "@/lib/api/schemas";
import { Select } from "../ui/select";
import { useSettings, useUpdateSettings } from "../hooks/use-admin";
import { useOperator } from "../hooks/operator-context";
import { Card, CardHeader } from "../ui/card";
import { Field, Input } from "../ui/input";
import { Button } from "../ui/button";
import { ErrorState, InlineError } from "../ui/error-state";
import { Skeleton } from "../ui/skeleton";
import { formatDuration } from "../ui/time";
import { fieldIssue } from "../api";
import { PresenceExplainer } from "./presence-explainer";

export function FleetSettingsForm() {
  const op = useOperator();
  const { data, error, refetch } = useSettings();
  const update = useUpdateSettings();
  const [hb, setHb] = React.useState("");
  const [stale, setStale] = React.useState("");
  const [retention, setRetention] = React.useState("");
  const [reconverge, setReconverge] = React.useState<Settings["reconverge"]>("flag");
  const [saved, setSaved] = React.useState(false);

  React.useEffect(() => {
    if (data) {
      setHb(String(data.heartbeatIntervalSec));
      setStale(String(data.staleAfterSec));
      setRetention(String(data.hostEventRetentionDays));
      setReconverge(data.reconverge);
    }
  }, [data]);
  React.useEffect(() => {
    if (!saved) return;
    const t = setTimeout(() => setSaved(false), 2500);
    return () => clearTimeout(t);
  }, [saved]);

  if (error && !data) return <ErrorState error={error} title="Could not load settings" onRetry={() => void refetch()} />;

  const parsed = SettingsSchema.safeParse({ heartbeatIntervalSec: Number(hb), staleAfterSec: Number(stale), hostEventRetentionDays: Number(retention), reconverge });
  const local = parsed.success ? null : parsed.error.issues;
  const localIssue = (f: string) => local?.find((i) => i.path[0] === f)?.message;
  const dirty =
    data &&
    (Number(hb) !== data.heartbeatIntervalSec || Number(stale) !== data.staleAfterSec || Number(retention) !== data.hostEventRetentionDays || reconverge !== data.reconverge);
  const ratioWarn = parsed.success && parsed.data.staleAfterSec < parsed.data.heartbeatIntervalSec * 3;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!parsed.success || !data) return;
    const patch: Partial<Settings> = {};
    if (parsed.data.heartbeatIntervalSec !== data.heartbeatIntervalSec) patch.heartbeatIntervalSec = parsed.data.heartbeatIntervalSec;
    if (parsed.data.staleAfterSec !== data.staleAfterSec) patch.staleAfterSec = parsed.data.staleAfterSec;
    if (parsed.data.hostEventRetentionDays !== data.hostEventRetentionDays) patch.hostEventRetentionDays = parsed.data.hostEventRetentionDays;
    if (parsed.data.reconverge !== data.reconverge) patch.reconverge = parsed.data.reconverge;
    try {
      await update.mutateAsync(patch);
      setSaved(true);
    } catch {
      /* shown below */
    }
  };

  return (
    <div className="grid grid-cols-1 items-start gap-4 xl:grid-cols-[minmax(0,42rem)_minmax(0,24rem)]">
    <Card>
      <CardHeader title="Heartbeats, staleness, history and drift" description="How often agents report in, when a silent host counts as stale, how long host timelines are kept, and what happens when a host loses a patch" />
      <form onSubmit={submit} className="p-4">
        {!data ? (
          <div className="space-y-3">
            <Skeleton className="h-8 w-full" />
            <Skeleton className="h-8 w-full" />
            <Skeleton className="h-8 w-full" />
          </div>
        ) : (
          <fieldset disabled={!op.isAdmin} className="grid gap-4 sm:grid-cols-2">
            <Field
              label="Heartbeat interval (seconds)"
              htmlFor="hb"
              error={localIssue("heartbeatIntervalSec") ?? fieldIssue(update.error, "heartbeatIntervalSec")}
              hint={`Agents send a heartbeat every ${formatDuration(Number(hb) || 0)}. Applies to connected agents right away.`}
            >
              <Input id="hb" type="number" min={5} max={3600} value={hb} onChange={(e) => setHb(e.target.value)} className="tabular" />
            </Field>
            <Field
              label="Stale after (seconds)"
              htmlFor="stale"
              error={localIssue("staleAfterSec") ?? fieldIssue(update.error, "staleAfterSec")}
              hint={`Offline hosts silent for more than ${formatDuration(Number(stale) || 0)} are flagged stale.`}
            >
              <Input id="stale" type="number" min={60} max={90 * 86400} value={stale} onChange={(e) => setStale(e.target.value)} className="tabular" />
            </Field>
            <Field
              label="Keep host events (days)"
              htmlFor="retention"
              error={localIssue("hostEventRetentionDays") ?? fieldIssue(update.error, "hostEventRetentionDays")}
              hint={`Entries of a host's timeline older than ${Number(retention) || 0} days are deleted.`}
            >
              <Input id="retention" type="number" min={1} max={3650} value={retention} onChange={(e) => setRetention(e.target.value)} className="tabular" />
            </Field>
            <Field
              label="A host lost a patch it should have"
              htmlFor="reconverge"
              hint={
                reconverge === "auto"
                  ? "The console applies it again by itself (a rollout started by the system, in the audit log). Not when reloading at boot is turned off for the host, nor again after such a re-apply failed."
                  : "The host shows as drifting; an operator re-applies from its page."
              }
            >
              <Select
                id="reconverge"
                ariaLabel="When a host lost a patch it should have"
                value={reconverge}
                onValueChange={(v) => setReconverge(v as Settings["reconverge"])}
                options={[
                  { value: "flag", label: "Flag it for an operator" },
                  { value: "auto", label: "Re-apply it automatically" },
                ]}
                className="w-full"
                disabled={!op.isAdmin}
              />
            </Field>
          </fieldset>
        )}
        {ratioWarn ? (
          <p className="mt-3 text-xs text-warn">A stale threshold under three heartbeats flags hosts after a single missed report.</p>
        ) : null}
        {update.error && !["heartbeatIntervalSec", "staleAfterSec", "hostEventRetentionDays", "reconverge"].some((f) => fieldIssue(update.error, f)) ? (
          <InlineError className="mt-3" error={update.error} />
        ) : null}
        <div className="mt-4 flex items-center justify-end gap-3 border-t border-border pt-3">
          {!op.isAdmin ? <span className="mr-auto text-xs text-muted-foreground">Only administrators can change these.</span> : null}
          {saved ? (
            <span className="flex items-center gap-1 text-xs text-ok" role="status">
              <Check className="size-3.5" /> Saved
            </span>
          ) : null}
          {op.isAdmin ? (
            <Button type="submit" variant="primary" disabled={!dirty || !parsed.success} loading={update.isPending}>
              Save changes
            </Button>
          ) : null}
        </div>
      </form>
    </Card>
      <PresenceExplainer
        heartbeatSec={parsed.success ? parsed.data.heartbeatIntervalSec : (data?.heartbeatIntervalSec ?? 30)}
        staleAfterSec={parsed.success ? parsed.data.staleAfterSec : (data?.staleAfterSec ?? 3600)}
      />
    </div>
  );
}
