"use client";
import * as React from "react";
import { ShieldOff } from "lucide-react";
import { useRevokeHost } from "../hooks/use-hosts";
import { Dialog, DialogContent, DialogTrigger } from "../ui/dialog";
import { Button } from "../ui/button";
import { Field, Input } from "../ui/input";
import { FormActions } from "../ui/form-actions";
import { AuditReasonField } from "./reason-field";
import { InlineError } from "../ui/error-state";
import { cn } from "../ui/cn";
import { useOnOpen } from "../hooks/use-on-open";

/** Admin-only: withdraw a host's credential. Typing the hostname is the confirmation. */
export function RevokeHostDialog({ hostId, hostname, size = "md" }: { hostId: string; hostname: string; size?: "sm" | "md" }) {
  const [open, setOpen] = React.useState(false);
  const [reason, setReason] = React.useState("");
  const [mode, setMode] = React.useState<"revoked" | "decommissioned">("revoked");
  const [confirm, setConfirm] = React.useState("");
  const mutation = useRevokeHost(hostId);

  useOnOpen(open, () => {
    setReason("");
    setConfirm("");
    setMode("revoked");
    mutation.reset();
  });

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (confirm !== hostname) return;
    try {
      await mutation.mutateAsync({ reason: reason.trim(), status: mode });
      setOpen(false);
    } catch {
      /* shown in the dialog */
    }
  };

  return (
    <Dialog open={open} onOpenChange={setOpen}>
      <DialogTrigger asChild>
        <Button variant="secondary" size={size} className="text-bad hover:bg-bad-soft">
          <ShieldOff /> Revoke
        </Button>
      </DialogTrigger>
      <DialogContent
        tone="danger"
        title={`Revoke ${hostname}?`}
        description="The agent's credential stops working immediately and its connection is closed. The agent keeps its credential aside; an admin can restore the host later, and the agent then gets back in with it."
      >
        <form onSubmit={submit} className="flex flex-col gap-4">
          <fieldset className="grid grid-cols-2 gap-2">
            <legend className="mb-1.5 text-xs font-medium text-muted-foreground">What happened to this host?</legend>
            {(
              [
                ["revoked", "Revoke", "Compromised or untrusted; keep it visible."],
                ["decommissioned", "Decommission", "Retired; hide it from the default views."],
              ] as const
            ).map(([value, title, hint]) => (
              <label
                key={value}
                className={cn(
                  "cursor-pointer rounded-md border p-2.5 text-xs transition-colors",
                  mode === value ? "border-bad/50 bg-bad-soft" : "border-border hover:bg-muted",
                )}
              >
                <input type="radio" name="mode" value={value} checked={mode === value} onChange={() => setMode(value)} className="sr-only" />
                <span className="block text-[13px] font-medium text-foreground">{title}</span>
                <span className="mt-0.5 block text-muted-foreground">{hint}</span>
              </label>
            ))}
          </fieldset>
          <AuditReasonField id="revoke-reason" value={reason} onChange={setReason} />
          <Field
            label={
              <>
                Type <code className="rounded bg-muted px-1 font-mono text-foreground">{hostname}</code> to confirm
              </>
            }
            htmlFor="revoke-confirm"
          >
            <Input id="revoke-confirm" value={confirm} onChange={(e) => setConfirm(e.target.value)} autoComplete="off" spellCheck={false} className="font-mono text-xs" />
          </Field>
          {mutation.error ? <InlineError error={mutation.error} /> : null}
          <FormActions
            danger
            onCancel={() => setOpen(false)}
            submitDisabled={confirm !== hostname}
            submitLabel={mode === "revoked" ? "Revoke host" : "Decommission host"}
            pending={mutation.isPending}
          />
        </form>
      </DialogContent>
    </Dialog>
  );
}
