"use client";
import * as React from "react";
import { Ban } from "lucide-react";
import type { PatchDetail } from "@/lib/api/schemas";
import { plainMessage } from "../api";
import { useOperator } from "../hooks/operator-context";
import { useWithdrawPatch } from "../hooks/use-patches";
import { Button } from "../ui/button";
import { ReasonConfirmDialog } from "../ui/reason-confirm";

/** The patch page's Withdraw action: a bad or superseded fix is taken out of use (lib/patches/withdraw.ts). */
export function WithdrawPatch({ p }: { p: PatchDetail }) {
  const can = useOperator().can("operator");
  const mutation = useWithdrawPatch(p.id);
  const [open, setOpen] = React.useState(false);
  if (!can || p.withdrawn) return null;
  return (
    <>
      <Button variant="secondary" onClick={() => (mutation.reset(), setOpen(true))} data-testid="withdraw-patch">
        <Ban className="size-4" /> Withdraw
      </Button>
      <ReasonConfirmDialog
        open={open}
        onOpenChange={setOpen}
        danger
        title={`Withdraw "${p.title}"?`}
        description="It will not be rolled out or built again, and later patches of the same functions are built again without it. Only a patch no host has live can be withdrawn: roll it back first."
        confirm={
          <>
            <Ban className="size-4" /> Withdraw
          </>
        }
        confirmTestId="withdraw-confirm"
        reasonId="withdraw-reason"
        reasonLabel="Why (recorded in the audit log and shown on the patch)"
        placeholder="e.g. breaks NFS mounts; replaced by the corrected fix"
        required
        pending={mutation.isPending}
        error={mutation.error ? plainMessage(mutation.error) : null}
        onConfirm={async (reason) => void (await mutation.mutateAsync(reason))}
      />
    </>
  );
}
