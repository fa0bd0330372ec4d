"use client";
import * as React from "react";
import { createColumnHelper } from "@tanstack/react-table";
import { KeyRound, Trash2 } from "lucide-react";
import type { EnrollmentToken } from "@/lib/api/schemas";
import { useEnrollmentTokens, useRevokeEnrollmentToken } from "../hooks/use-admin";
import { DataTable } from "../ui/data-table";
import { RelativeTime } from "../ui/relative-time";
import { StatusBadge, type Tone } from "../ui/badge";
import { Button } from "../ui/button";
import { Dialog, DialogContent } from "../ui/dialog";
import { EmptyState } from "../ui/empty-state";
import { ErrorState, InlineError } from "../ui/error-state";
import { numberFmt } from "../ui/time";

const STATE: Record<EnrollmentToken["state"], { tone: Tone; label: string }> = {
  active: { tone: "ok", label: "Active" },
  expired: { tone: "off", label: "Expired" },
  used_up: { tone: "off", label: "Used up" },
  revoked: { tone: "bad", label: "Revoked" },
};

const col = createColumnHelper<EnrollmentToken>();

export function EnrollmentTokensTable() {
  const { data, error, isPending, refetch } = useEnrollmentTokens();
  const revoke = useRevokeEnrollmentToken();
  const [confirming, setConfirming] = React.useState<EnrollmentToken | null>(null);

  const columns = React.useMemo(
    () => [
      col.accessor("prefix", {
        header: "Token",
        size: 150,
        cell: (c) => <span className="font-mono text-xs">{c.getValue()}…</span>,
      }),
      col.accessor("note", {
        header: "Note",
        cell: (c) => (c.getValue() ? <span className="block max-w-[18rem] truncate">{c.getValue()}</span> : <span className="text-subtle-foreground">—</span>),
      }),
      col.accessor("state", {
        header: "State",
        size: 110,
        cell: (c) => <StatusBadge tone={STATE[c.getValue()].tone}>{STATE[c.getValue()].label}</StatusBadge>,
      }),
      col.accessor("uses", {
        header: "Uses",
        size: 110,
        cell: (c) => (
          <span className="tabular text-xs">
            {numberFmt.format(c.getValue())} <span className="text-subtle-foreground">/ {numberFmt.format(c.row.original.maxUses)}</span>
          </span>
        ),
      }),
      col.accessor("expiresAt", {
        header: "Expires",
        size: 110,
        cell: (c) => <RelativeTime date={c.getValue()} className="text-xs text-muted-foreground" />,
      }),
      col.accessor("createdAt", {
        header: "Created",
        size: 110,
        cell: (c) => <RelativeTime date={c.getValue()} className="text-xs text-muted-foreground" />,
      }),
      col.display({
        id: "actions",
        header: () => <span className="sr-only">Actions</span>,
        size: 90,
        meta: { align: "right" },
        cell: (c) =>
          c.row.original.state === "active" ? (
            <Button size="sm" variant="ghost" className="text-bad hover:bg-bad-soft hover:text-bad" onClick={() => setConfirming(c.row.original)}>
              <Trash2 /> Revoke
            </Button>
          ) : null,
      }),
    ],
    [],
  );

  if (error && !data) return <ErrorState compact error={error} title="Could not load enrollment tokens" onRetry={() => void refetch()} />;

  return (
    <>
      <DataTable
        caption="Enrollment tokens"
        columns={columns}
        data={data?.items ?? []}
        loading={isPending}
        skeletonRows={3}
        getRowId={(t) => t.id}
        empty={
          <EmptyState compact icon={<KeyRound />} title="No enrollment tokens yet">
            Create one above. Each token enrolls up to its number of uses before it expires.
          </EmptyState>
        }
        className="max-h-[28rem]"
      />
      <Dialog open={!!confirming} onOpenChange={(o) => !o && setConfirming(null)}>
        {confirming ? (
          <DialogContent
            tone="danger"
            title="Revoke this enrollment token?"
            description={
              <>
                Token <code className="font-mono text-xs">{confirming.prefix}…</code>
                {confirming.note ? ` (“${confirming.note}”)` : ""} stops enrolling new hosts. Hosts that already enrolled with it keep working.
              </>
            }
            footer={
              <>
                <Button variant="ghost" onClick={() => setConfirming(null)}>
                  Cancel
                </Button>
                <Button
                  variant="danger"
                  loading={revoke.isPending}
                  onClick={async () => {
                    try {
                      await revoke.mutateAsync(confirming.id);
                      setConfirming(null);
                    } catch {
                      /* shown below */
                    }
                  }}
                >
                  Revoke token
                </Button>
              </>
            }
          >
            {revoke.error ? <InlineError error={revoke.error} /> : null}
          </DialogContent>
        ) : null}
      </Dialog>
    </>
  );
}
