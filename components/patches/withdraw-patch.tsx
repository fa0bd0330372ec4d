"use client";
import * as React from "react";
import { Ban } from "lucide-react";
import type { PatchDetail } from "@/lib/api/schemas";
import { plainMessage } from "../api";
import { useOperator } from "../hooks/operator-context";
import { useWithdrawPatch } from "../hooks/use-patches";
import { Button } from "../ui/button";
import { Dialog, DialogContent } from "../ui/dialog";
import { Field, Textarea } from "../ui/input";
import { InlineError } from "../ui/error-state";

/** The patch page's Withdraw action: a bad or superseded fix is taken out of use (lib/patches/withdraw.ts). */
export function WithdrawPatch({ p }: { p: PatchDetail }) {
  const can = useOperator().can("operator");
  const mutation = useWithdrawPatch(p.id);
  const [open, setOpen] = React.useState(false);
  const [reason, setReason] = React.useState("");
  if (!can || p.withdrawn) return null;
  return (
    <>
      <Button variant="secondary" onClick={() => (setReason(""), mutation.reset(), setOpen(true))} data-testid="withdraw-patch">
        <Ban className="size-4" /> Withdraw
      </Button>
      <Dialog open={open} onOpenChange={setOpen}>
        <DialogContent
          tone="danger"
          title={`Withdraw "${p.title}"?`}
          description="It will not be rolled out or built again, and later patches of the same functions are built again without it. Only a patch no host has live can be withdrawn: roll it back first."
          footer={
            <>
              <Button variant="ghost" onClick={() => setOpen(false)}>
                Cancel
              </Button>
              <Button
                variant="danger"
                loading={mutation.isPending}
                disabled={reason.trim() === ""}
                data-testid="withdraw-confirm"
                onClick={async () => {
                  try {
                    await mutation.mutateAsync(reason.trim());
                    setOpen(false);
                  } catch {
                    /* shown in the dialog */
                  }
                }}
              >
                <Ban className="size-4" /> Withdraw
              </Button>
            </>
          }
        >
          <div className="flex flex-col gap-3">
            <Field label="Why (recorded in the audit log and shown on the patch)" htmlFor="withdraw-reason">
              <Textarea id="withdraw-reason" rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="e.g. breaks NFS mounts; replaced by the corrected fix" />
            </Field>
            {mutation.error ? <InlineError error={plainMessage(mutation.error)} /> : null}
          </div>
        </DialogContent>
      </Dialog>
    </>
  );
}
