"use client";
import * as React from "react";
import { AlertTriangle, Ban, FileCode2, FileDiff, Info, ListChecks, OctagonX, ShieldCheck } from "lucide-react";
import type { ChangedFunction, FileAnalysis, Finding, Impact, PatchAnalysis } from "@/lib/analysis/types";
import { PageHeader } from "../ui/page-header";
import { Card, CardHeader } from "../ui/card";
import { DetailPageSkeleton } from "../ui/skeleton";
import { RelativeTime } from "../ui/relative-time";
import { CopyButton } from "../ui/copy-button";
import { Badge, type Tone } from "../ui/badge";
import { cn } from "../ui/cn";
import { formatExact, numberFmt } from "../ui/time";
import { CveChips, SeverityBadge, VerdictBadge, verdictHint, verdictTone } from "./patch-badges";
import { Breadcrumb } from "../ui/breadcrumb";
import { DiffView } from "./diff-view";
import { usePatch } from "../hooks/use-patches";
import { BuildsCard } from "./builds-card";
import { WithdrawPatch } from "./withdraw-patch";
import { DetailLoadError } from "../detail-load-error";
import { DetailRow } from "../ui/detail-row";
import { BUILD_STATUS } from "@/lib/api/schemas";

const impactIcon: Record<Impact, React.ReactNode> = {
  reboot: <OctagonX className="size-4 text-bad" aria-label="Rules out a live patch" />,
  review: <AlertTriangle className="size-4 text-warn" aria-label="Needs review" />,
  none: <Info className="size-4 text-subtle-foreground" aria-label="Note" />,
};

function FindingItem({ f }: { f: Finding }) {
  return (
    <li className="flex items-start gap-3 border-b border-border px-4 py-2.5 last:border-b-0" data-testid="finding" data-impact={f.impact} data-code={f.code}>
      <span className="mt-0.5 shrink-0">{impactIcon[f.impact]}</span>
      <div className="min-w-0 flex-1">
        <p className="text-[13px] text-foreground">{f.message}</p>
        <div className="mt-1 flex flex-wrap items-center gap-x-3 gap-y-1 text-xs text-muted-foreground">
          {f.file ? (
            <span className="font-mono">
              {f.file}
              {f.line ? <span className="text-subtle-foreground">:{f.line}</span> : null}
            </span>
          ) : (
            <span>whole patch</span>
          )}
          {f.symbol ? <Badge mono>{f.symbol}</Badge> : null}
          <span className="font-mono text-[11px] text-subtle-foreground">{f.code}</span>
        </div>
      </div>
    </li>
  );
}

const verdictIcon = {
  "hot-patchable": <ShieldCheck className="size-5" />,
  "needs-review": <AlertTriangle className="size-5" />,
  "requires-reboot": <OctagonX className="size-5" />,
};
const bannerTone: Record<Tone, string> = {
  ok: "border-ok/20 bg-ok-soft text-ok",
  warn: "border-warn/25 bg-warn-soft text-warn",
  bad: "border-bad/20 bg-bad-soft text-bad",
  off: "",
  info: "",
  neutral: "",
  accent: "",
};

/** What a builder refused to build, per kernel release, as it said when it tried. */
function BuilderRefusals({ refusals }: { refusals: PatchAnalysis["builderRefusals"] }) {
  const entries = Object.entries(refusals ?? {}).sort(([x], [y]) => x.localeCompare(y));
  if (entries.length === 0) return null;
  const builders = [...new Set(entries.map(([, r]) => r.builder))].join(", ");
  return (
    <div className="border-t border-border" data-testid="builder-refusals">
      <p className="flex items-center gap-2 px-4 pt-3 text-xs font-medium text-bad">
        <OctagonX className="size-3.5" /> The {builders} builder cannot build this for {entries.length} kernel release{entries.length === 1 ? "" : "s"}:
      </p>
      <ul className="space-y-2 px-4 pb-3 pt-2">
        {entries.map(([release, r]) => (
          <li key={release} className="text-[13px] leading-snug">
            <code className="mr-2 rounded bg-muted px-1 py-px font-mono text-[11px]">{release}</code>
            <span className="text-foreground/85">{r.message}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** `built`: the releases whose build made a module (their object diff overrules this preview). */
function VerdictCard({ a, built }: { a: PatchAnalysis; built: string[] }) {
  const notes = a.files.flatMap((f) => f.findings.filter((x) => x.impact === "none"));
  const tone = verdictTone[a.verdict];
  return (
    <Card className="overflow-hidden" data-testid="verdict-card">
      <CardHeader title="Verdict" icon={<ListChecks />} description="Ksplice's rule: a live patch may change code, not the layout or meaning of data that already exists." />
      <div className={cn("flex items-start gap-3 border-b px-4 py-3", bannerTone[tone])}>
        <span className="mt-0.5 shrink-0">{verdictIcon[a.verdict]}</span>
        <div className="min-w-0">
          <p className="text-sm font-semibold" data-testid="verdict-title">
            {a.verdict}
          </p>
          <p className="text-[13px] text-foreground/80">
            {verdictHint[a.verdict]}{" "}
            {a.reasons.length > 0 ? `${a.reasons.length === 1 ? "One reason" : `${a.reasons.length} reasons`}, worst first:` : "Nothing in it changes data, headers, init code or non-C files."}
          </p>
        </div>
      </div>
      {a.reasons.length > 0 ? (
        <ul data-testid="verdict-reasons">
          {a.reasons.map((f, i) => (
            <FindingItem key={i} f={f} />
          ))}
        </ul>
      ) : null}
      {a.verdict !== "hot-patchable" && built.length > 0 ? (
        <p data-testid="verdict-overruled" className="border-t border-border bg-ok-soft px-4 py-2 text-[13px] text-ok">
          This verdict is the staging preview, read from the diff&apos;s text; a build&apos;s verdict is the one that counts.{" "}
          {built.length <= 3 ? (
            <>
              The build{built.length === 1 ? "" : "s"} for{" "}
              {built.map((r, i) => (
                <span key={r}>
                  {i > 0 ? ", " : ""}
                  <code className="font-mono text-[12px]">{r}</code>
                </span>
              ))}{" "}
              made a live patch: {built.length === 1 ? "that release" : "those releases"} can be patched live.
            </>
          ) : (
            <span title={built.join(", ")}>The builds for {built.length} releases made a live patch: those releases can be patched live (see Builds).</span>
          )}
        </p>
      ) : null}
      <BuilderRefusals refusals={a.builderRefusals} />
      {notes.length > 0 ? (
        <details className="border-t border-border">
          <summary className="cursor-pointer px-4 py-2 text-xs font-medium text-muted-foreground hover:text-foreground">
            {notes.length} {notes.length === 1 ? "note" : "notes"} that do not affect the verdict
          </summary>
          <ul className="border-t border-border">
            {notes.map((f, i) => (
              <FindingItem key={i} f={f} />
            ))}
          </ul>
        </details>
      ) : null}
    </Card>
  );
}

const changeTone: Record<ChangedFunction["change"], Tone> = { modified: "info", added: "ok", removed: "bad" };
const statusTone: Record<FileAnalysis["status"], Tone> = { modified: "neutral", added: "ok", deleted: "bad", renamed: "info", copied: "info" };

function FilesCard({ a }: { a: PatchAnalysis }) {
  return (
    <Card className="overflow-hidden">
      <CardHeader
        title="Files"
        icon={<FileCode2 />}
        description={`${a.stats.files} ${a.stats.files === 1 ? "file" : "files"}, ${a.stats.hunks} ${a.stats.hunks === 1 ? "hunk" : "hunks"}, ${a.functions.length} changed ${a.functions.length === 1 ? "function" : "functions"}`}
      />
      <div className="scrollbar-thin overflow-x-auto">
        <table className="w-full border-separate border-spacing-0 text-[13px]" data-testid="patch-files">
          <caption className="sr-only">Files the patch changes</caption>
          <thead>
            <tr className="text-left text-[11px] font-medium uppercase tracking-wide text-muted-foreground">
              {["Path", "Kind", "Status", "Lines", "Changed functions"].map((h, i) => (
                <th key={h} scope="col" className={cn("h-8 border-b border-border bg-muted/75 px-3 font-medium", i === 3 && "text-right")}>
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {a.files.map((f) => (
              <tr key={f.path} className="align-top hover:bg-muted/40">
                <td className="border-b border-border px-3 py-2 font-mono text-xs">
                  {f.oldPath && f.oldPath !== f.path ? (
                    <>
                      <span className="text-subtle-foreground">{f.oldPath} → </span>
                      {f.path}
                    </>
                  ) : (
                    f.path
                  )}
                </td>
                <td className="border-b border-border px-3 py-2">
                  <Badge mono>{f.kind}</Badge>
                </td>
                <td className="border-b border-border px-3 py-2">
                  <Badge tone={statusTone[f.status]}>{f.status}</Badge>
                </td>
                <td className="whitespace-nowrap border-b border-border px-3 py-2 text-right font-mono text-xs tabular">
                  <span className="text-ok">+{f.added}</span> <span className="text-bad">−{f.removed}</span>
                </td>
                <td className="border-b border-border px-3 py-2">
                  {f.functions.length === 0 ? (
                    <span className="text-xs text-subtle-foreground">none</span>
                  ) : (
                    <ul className="flex flex-col gap-1">
                      {f.functions.map((fn) => (
                        <li key={`${fn.name}:${fn.change}`} className="flex items-center gap-2" data-testid="changed-function">
                          <span className="font-mono text-xs text-foreground">{fn.name}</span>
                          <Badge tone={changeTone[fn.change]} className="h-4 px-1 text-[10px]">
                            {fn.change}
                          </Badge>
                          <span className="font-mono text-[11px] text-subtle-foreground">:{fn.line}</span>
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function Loading() {
  return (
    <DetailPageSkeleton titleClassName="w-96" gridClassName="lg:grid-cols-[minmax(0,1fr)_22rem]" />
  );
}

export function PatchDetail({ id }: { id: string }) {
  const q = usePatch(id);
  if (q.isLoading) return <Loading />;
  if (q.isError || !q.data) {
    return (
      <DetailLoadError error={q.error} onRetry={() => void q.refetch()} noun="patch" section="Patches" href="/patches" icon={<FileDiff />}>
        It may never have been staged here, or the link is incomplete.
      </DetailLoadError>
    );
  }
  const p = q.data;
  const a = p.analysis as unknown as PatchAnalysis;
  return (
    <>
      <PageHeader
        breadcrumb={<Breadcrumb href="/patches" section="Patches" current={p.title} />}
        title={<span data-testid="patch-title">{p.title}</span>}
        meta={
          <>
            <SeverityBadge severity={p.severity} />
            <VerdictBadge verdict={p.verdict} />
            {p.withdrawn ? (
              <Badge tone="off" data-testid="patch-withdrawn-badge">
                withdrawn
              </Badge>
            ) : null}
          </>
        }
        actions={<WithdrawPatch p={p} />}
        description={
          <span className="flex flex-col gap-2">
            {p.cves.length > 0 ? <CveChips cves={p.cves} /> : null}
            {p.description ? <span className="whitespace-pre-line">{p.description}</span> : null}
          </span>
        }
      />
      <div className="flex flex-col gap-4">
        {p.withdrawn ? (
          <div className="flex items-start gap-3 rounded-lg border border-border bg-muted px-4 py-3 text-[13px]" data-testid="patch-withdrawn">
            <Ban className="mt-0.5 size-4 shrink-0 text-muted-foreground" aria-hidden />
            <p>
              <span className="font-medium text-foreground">Withdrawn</span> by {p.withdrawn.by} <RelativeTime date={p.withdrawn.at} />: {p.withdrawn.reason}
              <span className="block text-muted-foreground">It is not rolled out or built any more, and later patches of the same functions are built without it.</span>
            </p>
          </div>
        ) : null}
        <div className="grid items-start gap-4 lg:grid-cols-[minmax(0,1fr)_24rem]">
          <VerdictCard a={a} built={p.builds.filter((b) => b.status === BUILD_STATUS.succeeded).map((b) => b.kernelRelease)} />
          <Card className="overflow-hidden">
            <CardHeader title="Patch" />
            <dl>
              <DetailRow labelWidth="7rem" label="Staged by">{p.createdBy}</DetailRow>
              <DetailRow labelWidth="7rem" label="Staged">
                <span className="flex flex-col">
                  <RelativeTime date={p.createdAt} />
                  <span className="text-xs text-subtle-foreground">{formatExact(new Date(p.createdAt))}</span>
                </span>
              </DetailRow>
              <DetailRow labelWidth="7rem" label="Targets">
                {p.targetReleases.length === 0 ? (
                  <span>Every release the fleet runs</span>
                ) : (
                  <span className="flex flex-wrap gap-1">
                    {p.targetReleases.map((r) => (
                      <Badge key={r} mono>
                        {r}
                      </Badge>
                    ))}
                  </span>
                )}
              </DetailRow>
              <DetailRow labelWidth="7rem" label="Changes">
                <span className="tabular">
                  {a.stats.files} {a.stats.files === 1 ? "file" : "files"} · <span className="font-mono text-xs text-ok">+{a.stats.added}</span>{" "}
                  <span className="font-mono text-xs text-bad">−{a.stats.removed}</span>
                </span>
              </DetailRow>
              <DetailRow labelWidth="7rem" label="Diff sha256" mono copy={p.diffSha256}>
                <span data-testid="diff-sha256">{p.diffSha256}</span>
              </DetailRow>
              <DetailRow labelWidth="7rem" label="Patch id" mono copy={p.id}>
                {p.id}
              </DetailRow>
            </dl>
          </Card>
        </div>
        <FilesCard a={a} />
        <BuildsCard p={p} />
        <Card className="overflow-hidden">
          <CardHeader
            title="Diff"
            icon={<FileDiff />}
            description={`${numberFmt.format(a.stats.added)} added, ${numberFmt.format(a.stats.removed)} removed, as staged`}
            actions={<CopyButton text={p.diff} label="Copy diff" showLabel />}
          />
          <DiffView diff={p.diff} />
        </Card>
      </div>
    </>
  );
}
