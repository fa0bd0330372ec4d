"use client";
import * as React from "react";
import { createColumnHelper } from "@tanstack/react-table";
import { KeyRound } from "lucide-react";
import type { EnrollmentToken } from "@/lib/api/schemas";
import { useEnrollmentTokens, useRevokeEnrollmentToken } from "../hooks/use-admin";
import { QueryTable } from "../ui/data-table";
import { relativeTimeCell } from "../ui/relative-time";
import { StatusBadge, type Tone } from "../ui/badge";
import { EmptyState } from "../ui/empty-state";
import { RevokeConfirmDialog, revokeColumn } from "../ui/revoke-confirm";
import { numberFmt } from "../ui/time";

const STATE: Record<EnrollmentToken["state"], { tone: Tone; label: string }> = {
  active: { tone: "ok", label: "Active" },
  expired: { tone: "off", label: "Expired" },
  used_up: { tone: "off", label: "Used up" },
  revoked: { tone: "bad", label: "Revoked" },
};

const col = createColumnHelper<EnrollmentToken>();

export function EnrollmentTokensTable() {
  const tokens = useEnrollmentTokens();
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
      col.accessor("expiresAt", { header: "Expires", size: 110, cell: relativeTimeCell }),
      col.accessor("createdAt", { header: "Created", size: 110, cell: relativeTimeCell }),
      revokeColumn(col, (t) => t.state === "active", setConfirming),
    ],
    [],
  );

  return (
    <>
      <QueryTable
        query={tokens}
        errorTitle="Could not load enrollment tokens"
        errorCompact
        caption="Enrollment tokens"
        columns={columns}
        skeletonRows={3}
        empty={
          <EmptyState compact icon={<KeyRound />} title="No enrollment tokens yet">
            Create one above. Each token enrolls up to its number of uses before it expires.
          </EmptyState>
        }
        className="max-h-[28rem]"
      />
      <RevokeConfirmDialog
        target={confirming}
        onClose={() => setConfirming(null)}
        revoke={revoke}
        title={() => "Revoke this enrollment token?"}
        description={(t) => (
          <>
            Token <code className="font-mono text-xs">{t.prefix}…</code>
            {t.note ? ` (“${t.note}”)` : ""} stops enrolling new hosts. Hosts that already enrolled with it keep working.
          </>
        )}
        confirmLabel="Revoke token"
      />
    </>
  );
}
