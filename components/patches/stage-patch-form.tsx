"use client";
import * as React from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { FileUp, ShieldAlert, X } from "lucide-react";
import { CveSchema, MAX_DIFF_BYTES, type PatchCreate } from "@/lib/api/schemas";
import { ApiRequestError, fieldIssue } from "../api";
import { useFleetSummary } from "../hooks/use-hosts";
import { useOperator } from "../hooks/operator-context";
import { PageHeader } from "../ui/page-header";
import { Card, CardBody, CardHeader } from "../ui/card";
import { Field, Input, Textarea, inputClass } from "../ui/input";
import { Select } from "../ui/select";
import { Button, buttonClass } from "../ui/button";
import { Badge } from "../ui/badge";
import { EmptyState } from "../ui/empty-state";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";
import { SEVERITIES } from "./patch-badges";
import { Breadcrumb } from "../ui/breadcrumb";
import { useStagePatch } from "../hooks/use-patches";

type Severity = PatchCreate["severity"];

/** "CVE-2024-1, cve-2024-2 CVE-2024-3" → tokens, each valid or not. */
function parseCves(text: string): { id: string; ok: boolean }[] {
  const seen = new Set<string>();
  const out: { id: string; ok: boolean }[] = [];
  for (const raw of text.split(/[\s,;]+/)) {
    const id = raw.trim().toUpperCase();
    if (!id || seen.has(id)) continue;
    seen.add(id);
    out.push({ id, ok: CveSchema.safeParse(id).success });
  }
  return out;
}

function formatSize(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(2)} MiB`;
}

function ServerError({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error instanceof ApiRequestError ? error : null;
  const message = error instanceof Error ? error.message : String(error);
  const title =
    e?.status === 409 ? "Already staged" : e?.status === 400 ? "The patch was refused" : e?.status === 403 ? "Not allowed" : "Could not stage the patch";
  return (
    <div role="alert" data-testid="stage-error" className="flex items-start gap-2.5 rounded-md border border-bad/25 bg-bad-soft px-3 py-2.5 text-[13px] text-bad">
      <ShieldAlert className="mt-0.5 size-4 shrink-0" />
      <div className="min-w-0">
        <div className="flex flex-wrap items-center gap-2 font-semibold">
          {title}
          {e && !e.code.startsWith("http_") ? (
            <code className="rounded border border-bad/25 px-1 font-mono text-[11px] font-normal">{e.code}</code>
          ) : null}
        </div>
        <p className="mt-0.5 break-words text-foreground/85">{message}</p>
      </div>
    </div>
  );
}

export function StagePatchForm() {
  const router = useRouter();
  const op = useOperator();
  const stage = useStagePatch();
  const fleet = useFleetSummary();

  const [title, setTitle] = React.useState("");
  const [description, setDescription] = React.useState("");
  const [cveText, setCveText] = React.useState("");
  const [severity, setSeverity] = React.useState<Severity>("high");
  const [allReleases, setAllReleases] = React.useState(true);
  const [releases, setReleases] = React.useState<Set<string>>(() => new Set());
  const [diff, setDiff] = React.useState("");
  const [fileName, setFileName] = React.useState<string | null>(null);
  const [fileError, setFileError] = React.useState<string | null>(null);
  const [dragging, setDragging] = React.useState(false);
  const [tried, setTried] = React.useState(false);
  const fileInput = React.useRef<HTMLInputElement>(null);

  const cves = parseCves(cveText);
  const badCves = cves.filter((c) => !c.ok);
  const diffBytes = React.useMemo(() => new TextEncoder().encode(diff).length, [diff]);
  const kernels = fleet.data?.kernels ?? [];

  const errors = {
    title: !title.trim() ? "A title is required." : undefined,
    cves: badCves.length ? `Not a CVE id: ${badCves.map((c) => c.id).join(", ")}. CVE ids look like CVE-2024-1086.` : undefined,
    diff: !diff.trim() ? "Paste a unified diff or upload a .diff/.patch file." : diffBytes > MAX_DIFF_BYTES ? `The diff is ${formatSize(diffBytes)}; the limit is ${formatSize(MAX_DIFF_BYTES)}.` : undefined,
    releases: !allReleases && releases.size === 0 ? "Pick at least one kernel release, or target every release." : undefined,
  };
  const valid = !Object.values(errors).some(Boolean);

  async function readFile(file: File) {
    setFileError(null);
    if (file.size > MAX_DIFF_BYTES) {
      setFileError(`${file.name} is ${formatSize(file.size)}; the limit is ${formatSize(MAX_DIFF_BYTES)}.`);
      return;
    }
    try {
      const text = await file.text();
      setDiff(text);
      setFileName(file.name);
      // A `git format-patch` file carries its subject: a good default title.
      if (!title.trim()) {
        const m = /^Subject:\s*(?:\[PATCH[^\]]*\]\s*)?(.+)$/m.exec(text);
        if (m) setTitle(m[1].trim().slice(0, 200));
      }
    } catch {
      setFileError(`Could not read ${file.name}.`);
    }
  }

  function submit(e: React.FormEvent) {
    e.preventDefault();
    setTried(true);
    if (!valid) {
      stage.reset();
      return;
    }
    stage.mutate(
      {
        title: title.trim(),
        description: description.trim(),
        cves: cves.map((c) => c.id),
        severity,
        diff,
        kernelReleases: allReleases ? undefined : [...releases],
      },
      { onSuccess: (p) => router.push(`/patches/${p.id}`) },
    );
  }

  if (!op.can("operator")) {
    return (
      <>
        <PageHeader title="Stage a patch" breadcrumb={<Breadcrumb href="/patches" section="Patches" current="Stage a patch" />} />
        <Card>
          <EmptyState
            icon={<ShieldAlert />}
            title="Operators stage patches"
            action={
              <Link href="/patches" className={buttonClass("secondary")}>
                Back to patches
              </Link>
            }
          >
            You are signed in as a viewer. Ask an operator or an admin to stage this patch, or for the operator role.
          </EmptyState>
        </Card>
      </>
    );
  }

  const show = (k: keyof typeof errors) => (tried ? errors[k] : undefined);
  const serverField = (f: string) => fieldIssue(stage.error, f);

  return (
    <>
      <PageHeader
        title="Stage a patch"
        breadcrumb={<Breadcrumb href="/patches" section="Patches" current="Stage a patch" />}
        description="A unified diff against the kernel source tree. Staging analyses it: the functions it changes, and whether it changes data that a live patch must not touch."
      />
      <form onSubmit={submit} noValidate className="grid gap-4 xl:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]" data-testid="stage-form">
        <Card className="self-start">
          <CardHeader title="About the patch" />
          <CardBody className="flex flex-col gap-4">
            <Field label="Title" htmlFor="patch-title" error={show("title") ?? serverField("title")}>
              <Input id="patch-title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={200} placeholder="net: fix use-after-free in …" aria-invalid={!!show("title")} />
            </Field>
            <Field label="Description" htmlFor="patch-description" hint="Optional. Why this patch, what it fixes.">
              <Textarea id="patch-description" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} maxLength={10_000} />
            </Field>
            <Field
              label="CVE ids"
              htmlFor="patch-cves"
              hint="Separated by commas or spaces."
              error={show("cves") ?? (badCves.length && cveText.match(/[\s,;]$/) ? errors.cves : undefined) ?? serverField("cves")}
            >
              <Input
                id="patch-cves"
                value={cveText}
                onChange={(e) => setCveText(e.target.value)}
                placeholder="CVE-2024-1086, CVE-2024-26581"
                className="font-mono text-xs"
                aria-invalid={!!show("cves")}
                spellCheck={false}
              />
              {cves.length > 0 ? (
                <div className="flex flex-wrap gap-1" data-testid="cve-chips">
                  {cves.map((c) => (
                    <Badge key={c.id} mono tone={c.ok ? "neutral" : "bad"} title={c.ok ? undefined : "Not a CVE id"}>
                      {c.id}
                      <button
                        type="button"
                        aria-label={`Remove ${c.id}`}
                        className="-mr-0.5 rounded-sm opacity-60 hover:opacity-100"
                        onClick={() => setCveText(cves.filter((x) => x.id !== c.id).map((x) => x.id).join(", "))}
                      >
                        <X className="size-3" />
                      </button>
                    </Badge>
                  ))}
                </div>
              ) : null}
            </Field>
            <Field label="Severity" htmlFor="patch-severity">
              <Select
                id="patch-severity"
                ariaLabel="Severity"
                value={severity}
                onValueChange={(v) => setSeverity(v as Severity)}
                options={SEVERITIES.map((s) => ({ value: s, label: <span className="capitalize">{s}</span> }))}
                className="w-full"
              />
            </Field>
            <fieldset className="flex flex-col gap-2">
              <legend className="mb-1.5 text-xs font-medium text-muted-foreground">Target kernel releases</legend>
              <label className="flex items-start gap-2 text-[13px]">
                <input type="radio" name="targets" checked={allReleases} onChange={() => setAllReleases(true)} className="mt-0.5 accent-[var(--primary)]" />
                <span>
                  Every release the fleet runs
                  <span className="block text-xs text-subtle-foreground">Including releases that join later.</span>
                </span>
              </label>
              <label className="flex items-start gap-2 text-[13px]">
                <input type="radio" name="targets" checked={!allReleases} onChange={() => setAllReleases(false)} className="mt-0.5 accent-[var(--primary)]" />
                <span>Only these releases</span>
              </label>
              {!allReleases ? (
                kernels.length === 0 ? (
                  <p className="ml-6 text-xs text-subtle-foreground">{fleet.isLoading ? "Loading the fleet's releases…" : "No hosts have reported a kernel release yet."}</p>
                ) : (
                  <ul className="scrollbar-thin ml-6 max-h-56 overflow-y-auto rounded-md border border-border" data-testid="release-choices">
                    {kernels.map((k) => (
                      <li key={k.kernelRelease} className="border-b border-border last:border-b-0">
                        <label className="flex h-8 items-center gap-2 px-2.5 text-xs hover:bg-muted/60">
                          <input
                            type="checkbox"
                            className="accent-[var(--primary)]"
                            checked={releases.has(k.kernelRelease)}
                            onChange={(e) =>
                              setReleases((prev) => {
                                const next = new Set(prev);
                                if (e.target.checked) next.add(k.kernelRelease);
                                else next.delete(k.kernelRelease);
                                return next;
                              })
                            }
                          />
                          <span className="min-w-0 flex-1 truncate font-mono">{k.kernelRelease}</span>
                          <span className="tabular text-subtle-foreground">{numberFmt.format(k.count)} hosts</span>
                        </label>
                      </li>
                    ))}
                  </ul>
                )
              ) : null}
              {show("releases") ? <p className="ml-6 text-xs text-bad" role="alert">{errors.releases}</p> : null}
            </fieldset>
          </CardBody>
        </Card>

        <Card className="flex min-w-0 flex-col">
          <CardHeader
            title="Diff"
            description="Paste it, drop a file here, or upload a .diff or .patch file (git format-patch output works)."
            actions={
              <>
                <input
                  ref={fileInput}
                  type="file"
                  accept=".diff,.patch,text/x-diff,text/x-patch,text/plain"
                  className="sr-only"
                  data-testid="diff-file"
                  aria-label="Upload a .diff or .patch file"
                  tabIndex={-1}
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    if (f) void readFile(f);
                    e.target.value = "";
                  }}
                />
                <Button size="sm" onClick={() => fileInput.current?.click()}>
                  <FileUp /> Upload file
                </Button>
              </>
            }
          />
          <CardBody className="flex flex-1 flex-col gap-2">
            <textarea
              id="patch-diff"
              aria-label="Diff"
              data-testid="diff-input"
              value={diff}
              onChange={(e) => {
                setDiff(e.target.value);
                setFileName(null);
              }}
              onDragOver={(e) => {
                e.preventDefault();
                setDragging(true);
              }}
              onDragLeave={() => setDragging(false)}
              onDrop={(e) => {
                e.preventDefault();
                setDragging(false);
                const f = e.dataTransfer.files?.[0];
                if (f) void readFile(f);
              }}
              spellCheck={false}
              wrap="off"
              placeholder={"diff --git a/fs/proc/cmdline.c b/fs/proc/cmdline.c\n--- a/fs/proc/cmdline.c\n+++ b/fs/proc/cmdline.c\n@@ -6,8 +6,9 @@\n …"}
              aria-invalid={!!show("diff") || undefined}
              className={cn(
                inputClass,
                "scrollbar-thin h-auto min-h-[26rem] flex-1 resize-y py-2 font-mono text-xs leading-[1.6] whitespace-pre",
                dragging && "border-ring ring-2 ring-ring/25",
              )}
            />
            <div className="flex flex-wrap items-center justify-between gap-2 text-xs text-subtle-foreground">
              <span data-testid="diff-source">
                {fileName ? (
                  <>
                    From <span className="font-mono text-muted-foreground">{fileName}</span> ·{" "}
                  </>
                ) : null}
                {diff ? `${numberFmt.format(diff.split("\n").length)} lines · ${formatSize(diffBytes)}` : `Up to ${formatSize(MAX_DIFF_BYTES)}.`}
              </span>
              {show("diff") || fileError ? (
                <span className="text-bad" role="alert">
                  {fileError ?? errors.diff}
                </span>
              ) : null}
            </div>
            <ServerError error={stage.error} />
            <div className="mt-1 flex items-center justify-end gap-2">
              <Link href="/patches" className={buttonClass("ghost")}>
                Cancel
              </Link>
              <Button type="submit" variant="primary" loading={stage.isPending} data-testid="stage-submit">
                Stage and analyse
              </Button>
            </div>
          </CardBody>
        </Card>
      </form>
    </>
  );
}
