"use client";
import * as React from "react";
import { createColumnHelper } from "@tanstack/react-table";
import { KeyRound, MoreHorizontal, Shield, UserCheck, UserPlus, UserX, Users } from "lucide-react";
import type { Operator, Role } from "@/lib/api/schemas";
import { useCreateOperator, useOperators, useUpdateOperator } from "../hooks/use-admin";
import { useOperator } from "../hooks/operator-context";
import { QueryTable } from "../ui/data-table";
import { Button } from "../ui/button";
import { Dialog, DialogContent } from "../ui/dialog";
import { Field, Input } from "../ui/input";
import { StatusBadge } from "../ui/badge";
import { relativeTimeCell } from "../ui/relative-time";
import { InlineError } from "../ui/error-state";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuRadioOptions, DropdownMenuSeparator, DropdownMenuTrigger } from "../ui/dropdown-menu";
import { fieldIssue } from "../api";
import { FormActions, submitThen } from "../ui/form-actions";
import { ROLE_OPTIONS, RoleBadge, RoleField } from "./role-badge";
import { AdminPanel } from "./admin-panel";
import { useOnOpen } from "../hooks/use-on-open";

const col = createColumnHelper<Operator>();

function AddOperatorDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (o: boolean) => void }) {
  const create = useCreateOperator();
  const [username, setUsername] = React.useState("");
  const [password, setPassword] = React.useState("");
  const [role, setRole] = React.useState<Role>("operator");
  useOnOpen(open, () => {
    setUsername("");
    setPassword("");
    setRole("operator");
    create.reset();
  });
  const submit = submitThen(() => create.mutateAsync({ username: username.trim(), password, role }), () => onOpenChange(false));
  const generic = create.error && !fieldIssue(create.error, "username") && !fieldIssue(create.error, "password");
  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent title="Add operator" description="They sign in with this username and password. Share the password out of band.">
        <form onSubmit={submit} className="flex flex-col gap-3.5">
          <Field label="Username" htmlFor="op-user" error={fieldIssue(create.error, "username")} hint="Lowercase letters, digits, _ . -">
            <Input id="op-user" value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="off" required />
          </Field>
          <Field label="Initial password" htmlFor="op-pass" error={fieldIssue(create.error, "password")} hint="At least 10 characters and hard to guess (checked for common words, names and patterns)">
            <Input id="op-pass" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" required minLength={10} />
          </Field>
          <RoleField id="op-role" value={role} onChange={setRole} />
          {generic ? <InlineError error={create.error} /> : null}
          <FormActions className="pt-1" onCancel={() => onOpenChange(false)} submitLabel="Add operator" pending={create.isPending} />
        </form>
      </DialogContent>
    </Dialog>
  );
}

function ResetPasswordDialog({ target, onClose }: { target: Operator | null; onClose: () => void }) {
  const update = useUpdateOperator();
  const [password, setPassword] = React.useState("");
  React.useEffect(() => {
    setPassword("");
    update.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [target?.id]);
  return (
    <Dialog open={!!target} onOpenChange={(o) => !o && onClose()}>
      {target ? (
        <DialogContent title={`Set a new password for ${target.username}`} description="Their other sessions stay signed in until they expire.">
          <form onSubmit={submitThen(() => update.mutateAsync({ id: target.id, password }), onClose)} className="flex flex-col gap-3.5">
            <Field label="New password" htmlFor="op-newpass" error={fieldIssue(update.error, "password")} hint="At least 10 characters and hard to guess (checked for common words, names and patterns)">
              <Input id="op-newpass" type="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="new-password" minLength={10} required autoFocus />
            </Field>
            {update.error && !fieldIssue(update.error, "password") ? <InlineError error={update.error} /> : null}
            <FormActions onCancel={onClose} submitLabel="Set password" pending={update.isPending} />
          </form>
        </DialogContent>
      ) : null}
    </Dialog>
  );
}

export function OperatorsPanel() {
  const me = useOperator();
  const operators = useOperators(me.isAdmin);
  const update = useUpdateOperator();
  const [adding, setAdding] = React.useState(false);
  const [resetFor, setResetFor] = React.useState<Operator | null>(null);

  const columns = React.useMemo(
    () => [
      col.accessor("username", {
        header: "Username",
        cell: (c) => (
          <span className="flex items-center gap-2">
            <span className="flex size-6 items-center justify-center rounded-full bg-muted text-[10px] font-semibold uppercase text-muted-foreground">
              {c.getValue().slice(0, 2)}
            </span>
            <span className="font-medium">{c.getValue()}</span>
            {c.row.original.id === me.id ? <span className="text-xs text-subtle-foreground">(you)</span> : null}
          </span>
        ),
      }),
      col.accessor("role", { header: "Role", size: 120, cell: (c) => <RoleBadge role={c.getValue()} /> }),
      col.accessor("disabledAt", {
        header: "Status",
        size: 130,
        cell: (c) => (c.getValue() ? <StatusBadge tone="off">Disabled</StatusBadge> : <StatusBadge tone="ok">Active</StatusBadge>),
      }),
      col.accessor("createdAt", { header: "Added", size: 120, cell: relativeTimeCell }),
      col.display({
        id: "actions",
        header: () => <span className="sr-only">Actions</span>,
        size: 60,
        meta: { align: "right" },
        cell: (c) => {
          const o = c.row.original;
          const self = o.id === me.id;
          return (
            <DropdownMenu>
              <DropdownMenuTrigger asChild>
                <Button size="icon-sm" variant="ghost" aria-label={`Actions for ${o.username}`}>
                  <MoreHorizontal />
                </Button>
              </DropdownMenuTrigger>
              <DropdownMenuContent>
                <DropdownMenuLabel className="flex items-center gap-1.5">
                  <Shield className="size-3" /> Role
                </DropdownMenuLabel>
                <DropdownMenuRadioOptions value={o.role} onValueChange={(v) => update.mutate({ id: o.id, role: v as Role })} options={ROLE_OPTIONS} disabled={self} />
                <DropdownMenuSeparator />
                <DropdownMenuItem onSelect={() => setResetFor(o)}>
                  <KeyRound /> Set password…
                </DropdownMenuItem>
                {!self ? (
                  o.disabledAt ? (
                    <DropdownMenuItem onSelect={() => update.mutate({ id: o.id, disabled: false })}>
                      <UserCheck /> Enable
                    </DropdownMenuItem>
                  ) : (
                    <DropdownMenuItem className="text-bad" onSelect={() => update.mutate({ id: o.id, disabled: true })}>
                      <UserX /> Disable sign-in
                    </DropdownMenuItem>
                  )
                ) : null}
              </DropdownMenuContent>
            </DropdownMenu>
          );
        },
      }),
    ],
    [me.id, update],
  );

  return (
    <AdminPanel
      icon={<Users />}
      title="Operators"
      description="People who sign in to this console. Viewers read; operators change labels and run rollouts; admins manage everything."
      actions={
        <Button variant="primary" size="sm" onClick={() => setAdding(true)}>
          <UserPlus /> Add operator
        </Button>
      }
      deniedTitle="Administrators manage operators"
      denied={
        <>
          You are signed in as <span className="font-medium">{me.username}</span> ({me.role}).
        </>
      }
    >
      {update.error ? <InlineError className="mx-4 mt-3" error={update.error} /> : null}
      <QueryTable query={operators} errorTitle="Could not load operators" errorCompact caption="Operators" columns={columns} skeletonRows={3} />
      <AddOperatorDialog open={adding} onOpenChange={setAdding} />
      <ResetPasswordDialog target={resetFor} onClose={() => setResetFor(null)} />
    </AdminPanel>
  );
}
