"use client";
// Host identity decisions an admin takes: merge a possible duplicate into the host it duplicates,
// restore a revoked host. Small confirm dialogs in the style of RevokeHostDialog.
import * as React from "react";
import Link from "next/link";
import { GitMerge, ShieldCheck, TriangleAlert } from "lucide-react";
import type { Host } from "@/lib/api/schemas";
import { useHostIdentityAction } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { Dialog, DialogContent, DialogTrigger } from "../ui/dialog";
import { Button } from "../ui/button";
import { FormActions, submitThen } from "../ui/form-actions";
import { AuditReasonField } from "./reason-field";
import { InlineError } from "../ui/error-state";
import { Badge } from "../ui/badge";
import { RevokeHostDialog } from "./revoke-dialog";

function ReasonDialog({
  hostId,
  action,
  trigger,
  title,
  description,
  submitLabel,
  size = "md",
}: {
  hostId: string;
  action: "merge" | "restore";
  trigger: React.ReactNode;
  title: string;
  description: React.ReactNode;
  submitLabel: string;
  size?: "sm" | "md";
}) {
  const [open, setOpen] = React.useState(false);
  const [reason, setReason] = React.useState("");
  const mutation = useHostIdentityAction(hostId, action);
  const submit = submitThen(() => mutation.mutateAsync({ reason: reason.trim() }), () => setOpen(false));
  return (
    <Dialog
      open={open}
      onOpenChange={(o) => {
        setOpen(o);
        if (o) {
          setReason("");
          mutation.reset();
        }
      }}
    >
      <DialogTrigger asChild>
        <Button variant="secondary" size={size}>
          {trigger}
        </Button>
      </DialogTrigger>
      <DialogContent title={title} description={description}>
        <form onSubmit={submit} className="flex flex-col gap-4">
          <AuditReasonField id={`${action}-reason`} value={reason} onChange={setReason} />
          {mutation.error ? <InlineError error={mutation.error} /> : null}
          <FormActions onCancel={() => setOpen(false)} submitLabel={submitLabel} pending={mutation.isPending} />
        </form>
      </DialogContent>
    </Dialog>
  );
}

export function MergeHostDialog({ host, size }: { host: Host; size?: "sm" | "md" }) {
  const into = host.duplicateOf!;
  return (
    <ReasonDialog
      hostId={host.id}
      action="merge"
      size={size}
      trigger={
        <>
          <GitMerge /> Merge
        </>
      }
      title={`Merge ${host.hostname} into ${into.hostname}?`}
      description={`Only if this is ${into.hostname} reinstalled: ${into.hostname} keeps its id and history and takes this host's agent (and credential); its current agent, if any, is disconnected. ${host.hostname} is decommissioned.`}
      submitLabel="Merge host"
    />
  );
}

export function RestoreHostDialog({ host }: { host: Host }) {
  return (
    <ReasonDialog
      hostId={host.id}
      action="restore"
      trigger={
        <>
          <ShieldCheck /> Restore
        </>
      }
      title={`Restore ${host.hostname}?`}
      description="The host becomes active again. Its agent kept its credential aside when it was revoked; it presents it at its next start (systemd restarts it with a growing delay, at most an hour) and gets this host back with a new credential."
      submitLabel="Restore host"
    />
  );
}

/** "possible duplicate of X", linking to X; admins get Merge and Revoke beside it. */
export function DuplicateOf({ host, actions = true, size = "sm" }: { host: Host; actions?: boolean; size?: "sm" | "md" }) {
  const op = useOperator();
  if (!host.duplicateOf || host.status !== "active") return null;
  return (
    <span className="inline-flex flex-wrap items-center gap-1.5" data-testid="possible-duplicate">
      <Badge tone="warn">
        <TriangleAlert className="size-3" /> possible duplicate of{" "}
        <Link href={`/hosts/${host.duplicateOf.id}`} className="font-medium underline-offset-2 hover:underline">
          {host.duplicateOf.hostname}
        </Link>
        {host.duplicateOf.status !== "active" ? ` (${host.duplicateOf.status})` : ""}
      </Badge>
      {actions && op.isAdmin ? (
        <>
          <MergeHostDialog host={host} size={size} />
          <RevokeHostDialog hostId={host.id} hostname={host.hostname} size={size} />
        </>
      ) : null}
    </span>
  );
}
