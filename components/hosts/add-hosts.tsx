"use client";
import * as React from "react";
import Link from "next/link";
import { AlertTriangle, KeyRound, Radio, ShieldAlert, Terminal } from "lucide-react";
import { useCreateEnrollmentToken, type EnrollmentTokenCreated } from "../hooks/use-admin";
import { useHosts } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { PageHeader } from "../ui/page-header";
import { Card, CardBody, CardHeader } from "../ui/card";
import { Button } from "../ui/button";
import { Field, Input } from "../ui/input";
import { Select } from "../ui/select";
import { InlineError } from "../ui/error-state";
import { CopyButton } from "../ui/copy-button";
import { RelativeTime } from "../ui/relative-time";
import { EmptyState } from "../ui/empty-state";
import { Badge } from "../ui/badge";
import { fieldIssue } from "../api";
import { InstallInstructions } from "./install-instructions";
import { EnrollmentTokensTable } from "./enrollment-tokens";
import { HostStateDot } from "./host-state-badge";
import { Breadcrumb } from "../ui/breadcrumb";

const EXPIRY = [
  { value: "1", label: "1 hour" },
  { value: "24", label: "24 hours" },
  { value: "168", label: "7 days" },
  { value: "720", label: "30 days" },
];

function useOrigin(): string {
  const [origin, setOrigin] = React.useState("https://splicer.example.com");
  React.useEffect(() => setOrigin(window.location.origin), []);
  return origin;
}

function Step({ n, title, children, done }: { n: number; title: string; children: React.ReactNode; done?: boolean }) {
  return (
    <li className="group relative flex gap-4 pb-7 last:pb-0">
      <span className="absolute left-[13px] top-8 h-[calc(100%-2.25rem)] w-px bg-border group-last:hidden" aria-hidden="true" />
      <span
        className={
          "relative flex size-7 shrink-0 items-center justify-center rounded-full border text-xs font-semibold " +
          (done ? "border-ok/30 bg-ok-soft text-ok" : "border-border-strong bg-card text-muted-foreground")
        }
      >
        {n}
      </span>
      <div className="min-w-0 flex-1 pt-0.5">
        <h3 className="text-[13px] font-semibold">{title}</h3>
        <div className="mt-2">{children}</div>
      </div>
    </li>
  );
}

function CreateTokenForm({ onCreated }: { onCreated: (t: EnrollmentTokenCreated) => void }) {
  const create = useCreateEnrollmentToken();
  const [note, setNote] = React.useState("");
  const [maxUses, setMaxUses] = React.useState("10");
  const [expires, setExpires] = React.useState("24");
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const t = await create.mutateAsync({ note: note.trim(), maxUses: Number(maxUses), expiresInHours: Number(expires) });
      onCreated(t);
    } catch {
      /* shown below */
    }
  };
  return (
    <form onSubmit={submit} className="flex flex-col gap-3">
      <div className="grid gap-3 sm:grid-cols-[1fr_8rem_9rem_auto] sm:items-end">
        <Field label="Note" htmlFor="tok-note" error={fieldIssue(create.error, "note")}>
          <Input id="tok-note" value={note} onChange={(e) => setNote(e.target.value)} placeholder="e.g. web tier, rack 12" maxLength={200} />
        </Field>
        <Field label="Max. hosts" htmlFor="tok-uses" error={fieldIssue(create.error, "maxUses")}>
          <Input id="tok-uses" type="number" min={1} max={100000} value={maxUses} onChange={(e) => setMaxUses(e.target.value)} className="tabular" />
        </Field>
        <Field label="Expires after" htmlFor="tok-exp">
          <Select id="tok-exp" ariaLabel="Expires after" value={expires} onValueChange={setExpires} options={EXPIRY} className="w-full" />
        </Field>
        <Button type="submit" variant="primary" loading={create.isPending} data-testid="create-enrollment-token">
          <KeyRound /> Create token
        </Button>
      </div>
      {create.error && !fieldIssue(create.error, "note") && !fieldIssue(create.error, "maxUses") ? <InlineError error={create.error} /> : null}
    </form>
  );
}

function RecentHosts({ since }: { since: string | null }) {
  const { data } = useHosts({ sort: "enrolledAt", order: "desc", limit: 5, offset: 0 });
  const items = data?.items ?? [];
  const fresh = since ? items.filter((h) => h.enrolledAt >= since) : [];
  return (
    <div className="rounded-md border border-border">
      <div className="flex items-center gap-2 border-b border-border px-3 py-2 text-xs text-muted-foreground">
        <Radio className="size-3.5 text-ok" />
        {since
          ? fresh.length
            ? `${fresh.length} new host${fresh.length > 1 ? "s" : ""} since you created the token`
            : "Waiting for a host to enroll with this token… Latest enrollments:"
          : "Latest enrollments"}
      </div>
      {items.length === 0 ? (
        <p className="px-3 py-3 text-xs text-muted-foreground">No hosts yet. They appear here the moment they enroll.</p>
      ) : (
        <ul className="divide-y divide-border" data-testid="recent-hosts">
          {items.map((h) => (
            <li key={h.id}>
              <Link href={`/hosts/${h.id}`} className="flex items-center gap-2.5 px-3 py-1.5 text-[13px] hover:bg-muted/60">
                <HostStateDot host={h} />
                <span className="min-w-0 flex-1 truncate font-medium">
                  {h.hostname}
                  {since && h.enrolledAt >= since ? (
                    <Badge tone="ok" className="ml-2">
                      new
                    </Badge>
                  ) : null}
                </span>
                <span className="hidden truncate font-mono text-[11px] text-muted-foreground sm:block">{h.kernelRelease}</span>
                <RelativeTime date={h.enrolledAt} className="w-20 text-right text-xs text-subtle-foreground" />
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function AddHosts() {
  const op = useOperator();
  const origin = useOrigin();
  const [created, setCreated] = React.useState<EnrollmentTokenCreated | null>(null);

  const breadcrumb = <Breadcrumb href="/hosts" section="Hosts" current="Add hosts" />;

  if (!op.isAdmin) {
    return (
      <>
        <PageHeader title="Add hosts" breadcrumb={breadcrumb} />
        <Card>
          <EmptyState icon={<ShieldAlert />} title="Administrators enroll hosts">
            Enrollment tokens let a server join the fleet, so only administrators can create them. Ask an administrator for a token.
          </EmptyState>
        </Card>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Add hosts"
        breadcrumb={breadcrumb}
        description="Install the agent on a server with an enrollment token. The server appears in the fleet as soon as it connects."
      />
      <div className="grid grid-cols-1 items-start gap-4 2xl:grid-cols-[minmax(0,3fr)_minmax(0,2fr)]">
        <Card>
          <CardHeader icon={<Terminal />} title="Install the agent" description="Three steps, about a minute per server" />
          <CardBody className="pt-5">
            <ol>
              <Step n={1} title="Create an enrollment token" done={!!created}>
                {created ? (
                  <div className="rounded-md border border-ok/30 bg-ok-soft/60 p-3" data-testid="new-token">
                    <div className="flex items-center gap-2 text-xs font-medium text-ok">
                      <AlertTriangle className="size-3.5" /> Copy this token now: it is shown only once.
                    </div>
                    <div className="mt-2 flex items-center gap-2">
                      <code className="min-w-0 flex-1 truncate rounded border border-border bg-card px-2 py-1.5 font-mono text-xs" data-testid="new-token-secret">
                        {created.token}
                      </code>
                      <CopyButton text={created.token} label="Copy token" showLabel />
                    </div>
                    <div className="mt-2 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-muted-foreground">
                      <span>
                        Enrolls up to {created.maxUses} host{created.maxUses === 1 ? "" : "s"}
                      </span>
                      <span>
                        Expires <RelativeTime date={created.expiresAt} />
                      </span>
                      <button type="button" className="font-medium text-primary hover:underline" onClick={() => setCreated(null)}>
                        Create another
                      </button>
                    </div>
                  </div>
                ) : (
                  <CreateTokenForm onCreated={setCreated} />
                )}
              </Step>
              <Step n={2} title="Run this on each server">
                <InstallInstructions origin={origin} token={created?.token ?? null} />
                {!created ? <p className="mt-2 text-xs text-warn">Create a token first: it is filled in above.</p> : null}
              </Step>
              <Step n={3} title="Watch it join">
                <RecentHosts since={created?.createdAt ?? null} />
              </Step>
            </ol>
          </CardBody>
        </Card>
        <Card>
          <CardHeader icon={<KeyRound />} title="Enrollment tokens" description="Revoke a token to stop it enrolling more hosts" />
          <EnrollmentTokensTable />
        </Card>
      </div>
    </>
  );
}
