import type * as React from "react";
import { Button } from "./button";
import { cn } from "./cn";

/** Cancel + submit at the foot of a form in a dialog. */
export function FormActions({
  onCancel,
  submitLabel,
  pending,
  className,
  danger,
  submitDisabled,
}: {
  onCancel: () => void;
  submitLabel: React.ReactNode;
  pending: boolean;
  className?: string;
  /** The submit button undoes something (revoke, delete). */
  danger?: boolean;
  submitDisabled?: boolean;
}) {
  return (
    <div className={cn("flex justify-end gap-2", className)}>
      <Button variant="ghost" onClick={onCancel}>
        Cancel
      </Button>
      <Button type="submit" variant={danger ? "danger" : "primary"} disabled={submitDisabled} loading={pending}>
        {submitLabel}
      </Button>
    </div>
  );
}

/**
 * A form's onSubmit that runs `action` (a mutation), then `onDone` (close the dialog). A failure
 * is left on the mutation, whose error the form shows, and the dialog stays open.
 */
export function submitThen(action: () => Promise<unknown>, onDone: () => void) {
  return async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      await action();
      onDone();
    } catch {
      /* shown by the form */
    }
  };
}
