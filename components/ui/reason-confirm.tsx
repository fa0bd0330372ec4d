"use client";
import * as React from "react";
import { Button } from "./button";
import { Dialog, DialogContent } from "./dialog";
import { InlineError } from "./error-state";
import { Field, Textarea } from "./input";

/**
 * A confirmation that asks for a reason (recorded in the audit log): the rollout actions, a patch's
 * withdrawal. Open while `open`; the reason starts empty each time it opens. `onConfirm` resolves
 * to close the dialog; a rejection leaves it open (the caller shows `error`).
 */
export function ReasonConfirmDialog(o: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  title: string;
  description: React.ReactNode;
  danger?: boolean;
  confirm: React.ReactNode;
  confirmTestId: string;
  reasonId: string;
  reasonLabel: string;
  placeholder: string;
  /** A reason must be given (otherwise it is optional). */
  required?: boolean;
  pending: boolean;
  error: string | null;
  onConfirm: (reason: string) => Promise<void>;
}) {
  const [reason, setReason] = React.useState("");
  React.useEffect(() => {
    if (o.open) setReason("");
  }, [o.open]);
  return (
    <Dialog open={o.open} onOpenChange={o.onOpenChange}>
      {o.open ? (
        <DialogContent
          tone={o.danger ? "danger" : undefined}
          title={o.title}
          description={o.description}
          footer={
            <>
              <Button variant="ghost" onClick={() => o.onOpenChange(false)}>
                Cancel
              </Button>
              <Button
                variant={o.danger ? "danger" : "primary"}
                loading={o.pending}
                disabled={o.required && reason.trim() === ""}
                data-testid={o.confirmTestId}
                onClick={() => void o.onConfirm(reason.trim()).then(() => o.onOpenChange(false), () => {})}
              >
                {o.confirm}
              </Button>
            </>
          }
        >
          <div className="flex flex-col gap-3">
            <Field label={o.reasonLabel} htmlFor={o.reasonId}>
              <Textarea id={o.reasonId} rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder={o.placeholder} />
            </Field>
            {o.error ? <InlineError error={o.error} /> : null}
          </div>
        </DialogContent>
      ) : null}
    </Dialog>
  );
}
