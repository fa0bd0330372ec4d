"use client";
import * as React from "react";
import type { ColumnHelper } from "@tanstack/react-table";
import { Trash2 } from "lucide-react";
import { Button } from "./button";
import { Dialog, DialogContent } from "./dialog";
import { InlineError } from "./error-state";

/** The last column of a table of revocable rows: a "Revoke" button on the rows `canRevoke` allows. */
export function revokeColumn<T>(col: ColumnHelper<T>, canRevoke: (row: T) => boolean, onRevoke: (row: T) => void) {
  return col.display({
    id: "actions",
    header: () => <span className="sr-only">Actions</span>,
    size: 90,
    meta: { align: "right" },
    cell: (c) =>
      canRevoke(c.row.original) ? (
        <Button size="sm" variant="ghost" className="text-bad hover:bg-bad-soft hover:text-bad" onClick={() => onRevoke(c.row.original)}>
          <Trash2 /> Revoke
        </Button>
      ) : null,
  });
}

/** What the dialog needs of a revoke mutation (a TanStack `useMutation` result taking the id). */
export type RevokeMutation = { mutateAsync: (id: string) => Promise<unknown>; isPending: boolean; error: Error | null };

/**
 * Asks before revoking `target`; open while `target` is set. Closes on success; a failure is shown in the dialog.
 */
export function RevokeConfirmDialog<T extends { id: string }>({
  target,
  onClose,
  revoke,
  title,
  description,
  confirmLabel,
}: {
  target: T | null;
  onClose: () => void;
  revoke: RevokeMutation;
  title: (t: T) => React.ReactNode;
  description: (t: T) => React.ReactNode;
  confirmLabel: string;
}) {
  return (
    <Dialog open={!!target} onOpenChange={(o) => !o && onClose()}>
      {target ? (
        <DialogContent
          tone="danger"
          title={title(target)}
          description={description(target)}
          footer={
            <>
              <Button variant="ghost" onClick={onClose}>
                Cancel
              </Button>
              <Button
                variant="danger"
                loading={revoke.isPending}
                onClick={async () => {
                  try {
                    await revoke.mutateAsync(target.id);
                    onClose();
                  } catch {
                    /* shown below */
                  }
                }}
              >
                {confirmLabel}
              </Button>
            </>
          }
        >
          {revoke.error ? <InlineError error={revoke.error} /> : null}
        </DialogContent>
      ) : null}
    </Dialog>
  );
}
