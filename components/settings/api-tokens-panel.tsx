"use client";
import * as React from "react";
import { createColumnHelper } from "@tanstack/react-table";
import { KeySquare, Plus } from "lucide-react";
import { API_TOKEN_DEFAULT_DAYS, API_TOKEN_MAX_DAYS, type ApiToken, type Role } from "@/lib/api/schemas";
import { useApiTokens, useCreateApiToken, useRevokeApiToken, type ApiTokenCreated } from "../hooks/use-admin";
import { useOperator } from "../hooks/operator-context";
import { QueryTable } from "../ui/data-table";
import { Button } from "../ui/button";
import { Dialog, DialogContent } from "../ui/dialog";
import { Field, Input } from "../ui/input";
import { Select } from "../ui/select";
import { StatusBadge } from "../ui/badge";
import { RelativeTime, relativeTimeCell } from "../ui/relative-time";
import { EmptyState } from "../ui/empty-state";
import { InlineError } from "../ui/error-state";
import { fieldIssue } from "../api";
import { FormActions } from "../ui/form-actions";
import { RoleBadge, RoleField } from "./role-badge";
import { AdminPanel } from "./admin-panel";
import { SecretReveal } from "./secret-reveal";
import { CodeBlock } from "../ui/code-block";
import { RevokeConfirmDialog, revokeColumn } from "../ui/revoke-confirm";
import { useOnOpen } from "../hooks/use-on-open";

const col = createColumnHelper<ApiToken>();

function tokenState(t: ApiToken): { tone: "ok" | "off" | "bad"; label: string } {
  if (t.revokedAt) return { tone: "bad", label: "Revoked" };
  if (new Date(t.expiresAt).getTime() < Date.now()) return { tone: "off", label: "Expired" };
  return { tone: "ok", label: "Active" };
}

// No "never": a token that never expires outlives its purpose unnoticed (at most a year).
const EXPIRY = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: String(API_TOKEN_DEFAULT_DAYS), label: `${API_TOKEN_DEFAULT_DAYS} days` },
  { value: String(API_TOKEN_MAX_DAYS), label: "1 year" },
];

function CreateTokenDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const create = useCreateApiToken();
  const [name, setName] = React.useState("");
  const [role, setRole] = React.useState<Role>("viewer");
  const [expiry, setExpiry] = React.useState(String(API_TOKEN_DEFAULT_DAYS));
  const [created, setCreated] = React.useState<ApiTokenCreated | null>(null);
  useOnOpen(open, () => {
    setName("");
    setRole("viewer");
    setExpiry(String(API_TOKEN_DEFAULT_DAYS));
    setCreated(null);
    create.reset();
  });
  const origin = typeof window !== "undefined" ? window.location.origin : "";
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        title={created ? `Token “${created.name}” created` : "Create API token"}
        description={created ? "Use it as a bearer token for the HTTP API." : "For scripts and CI. A token acts with the role you give it."}
        className="max-w-lg"
      >
        {created ? (
          <div className="flex flex-col gap-3">
            <SecretReveal secret={created.token} testId="api-token-secret" />
            <CodeBlock text={`curl -H 'Authorization: Bearer ${created.token}' ${origin}/api/v1/fleet/summary`} label="Copy example" />
            <div className="flex justify-end">
              <Button variant="primary" onClick={() => onOpenChange(false)}>
                Done
              </Button>
            </div>
          </div>
        ) : (
          <form
            className="flex flex-col gap-3.5"
            onSubmit={async (e) => {
              e.preventDefault();
              try {
                setCreated(
                  await create.mutateAsync({ name: name.trim(), role, expiresInDays: Number(expiry) }),
                );
              } catch {
                /* shown */
              }
            }}
          >
            <Field label="Name" htmlFor="tok-name" error={fieldIssue(create.error, "name")} hint="What uses it, e.g. “ci-deploy” or “grafana”">
              <Input id="tok-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} autoComplete="off" />
            </Field>
            <div className="grid grid-cols-2 gap-3">
              <RoleField id="tok-role" value={role} onChange={setRole} />
              <Field label="Expires" htmlFor="tok-expiry">
                <Select id="tok-expiry" ariaLabel="Expires" value={expiry} onValueChange={setExpiry} options={EXPIRY} className="w-full" />
              </Field>
            </div>
            {create.error && !fieldIssue(create.error, "name") ? <InlineError error={create.error} /> : null}
            <FormActions className="pt-1" onCancel={() => onOpenChange(false)} submitLabel="Create token" pending={create.isPending} />
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}

export function ApiTokensPanel() {
  const me = useOperator();
  const tokens = useApiTokens(me.isAdmin);
  const revoke = useRevokeApiToken();
  const [creating, setCreating] = React.useState(false);
  const [confirming, setConfirming] = React.useState<ApiToken | null>(null);

  const columns = React.useMemo(
    () => [
      col.accessor("name", { header: "Name", cell: (c) => <span className="font-medium">{c.getValue()}</span> }),
      col.accessor("prefix", { header: "Token", size: 140, cell: (c) => <span className="font-mono text-xs text-muted-foreground">{c.getValue()}…</span> }),
      col.accessor("role", { header: "Role", size: 100, cell: (c) => <RoleBadge role={c.getValue()} /> }),
      col.display({
        id: "state",
        header: "State",
        size: 100,
        cell: (c) => {
          const s = tokenState(c.row.original);
          return <StatusBadge tone={s.tone}>{s.label}</StatusBadge>;
        },
      }),
      col.accessor("lastUsedAt", { header: "Last used", size: 110, cell: (c) => <RelativeTime date={c.getValue()} fallback="never" className="text-xs text-muted-foreground" /> }),
      col.accessor("expiresAt", { header: "Expires", size: 110, cell: relativeTimeCell }),
      col.accessor("createdBy", { header: "Created by", size: 120, cell: (c) => <span className="text-xs text-muted-foreground">{c.getValue()}</span> }),
      revokeColumn(col, (t) => !t.revokedAt, setConfirming),
    ],
    [],
  );

  return (
    <AdminPanel
      icon={<KeySquare />}
      title="API tokens"
      description="Bearer tokens for scripts, CI and dashboards. Every call is audited under the token's name."
      actions={
        <Button variant="primary" size="sm" onClick={() => setCreating(true)}>
          <Plus /> Create token
        </Button>
      }
      deniedTitle="Administrators manage API tokens"
      denied="Ask an administrator for a token to use the HTTP API from scripts."
    >
      <QueryTable
        query={tokens}
        errorTitle="Could not load API tokens"
        errorCompact
        caption="API tokens"
        columns={columns}
        skeletonRows={3}
        rowClassName={(r) => (r.original.revokedAt ? "opacity-60" : undefined)}
        empty={
          <EmptyState compact icon={<KeySquare />} title="No API tokens" action={<Button size="sm" onClick={() => setCreating(true)}><Plus /> Create token</Button>}>
            Create one to call the API from a script: <code className="font-mono text-xs">Authorization: Bearer …</code>
          </EmptyState>
        }
      />
      <CreateTokenDialog open={creating} onOpenChange={setCreating} />
      <RevokeConfirmDialog
        target={confirming}
        onClose={() => setConfirming(null)}
        revoke={revoke}
        title={(t) => `Revoke “${t.name}”?`}
        description={() => "Anything still using this token gets 401 from now on. This cannot be undone."}
        confirmLabel="Revoke token"
      />
    </AdminPanel>
  );
}
