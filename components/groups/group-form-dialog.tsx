"use client";
import * as React from "react";
import { useRouter } from "next/navigation";
import { Cpu, Globe, Layers, Server, SlidersHorizontal, Tag } from "lucide-react";
import type { Group, GroupSelector } from "@/lib/api/schemas";
import { issueAt, plainMessage } from "../api";
import { useFleetSummary } from "../hooks/use-hosts";
import { Dialog, DialogContent } from "../ui/dialog";
import { Button, Spinner } from "../ui/button";
import { Field, Input, Textarea } from "../ui/input";
import { InlineError } from "../ui/error-state";
import { MultiSelect, type MultiSelectOption } from "../ui/multi-select";
import { Badge } from "../ui/badge";
import { cn } from "../ui/cn";
import { numberFmt } from "../ui/time";
import { useCreateGroup, useGroupPreview, useUpdateGroup } from "../hooks/use-groups";

/** `env=prod, role=web` → {env: "prod", role: "web"}; a malformed part is reported, not dropped. */
export function parseLabels(text: string): { labels: Record<string, string>; error?: string } {
  const labels: Record<string, string> = {};
  for (const raw of text.split(/[,\n]/)) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq <= 0) return { labels, error: `“${part}” is not key=value` };
    const k = part.slice(0, eq).trim();
    const v = part.slice(eq + 1).trim();
    if (k in labels && labels[k] !== v) return { labels, error: `label “${k}” is given twice` };
    labels[k] = v;
  }
  return { labels };
}

export function formatLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

function PreviewPanel({ selector, localError }: { selector: GroupSelector | null; localError?: string }) {
  const p = useGroupPreview(localError ? null : selector);
  const data = p.data;
  const err = p.error;
  return (
    <div className="flex h-full flex-col rounded-md border border-border bg-muted/40" data-testid="group-preview" aria-live="polite">
      <div className="flex items-center justify-between border-b border-border px-3 py-2">
        <span className="text-xs font-medium text-muted-foreground">Members now</span>
        {p.isFetching ? <Spinner className="size-3 text-subtle-foreground" /> : null}
      </div>
      {!selector ? (
        <p className="px-3 py-4 text-xs text-muted-foreground">Choose labels, kernel releases or distributions, or all hosts.</p>
      ) : localError || err ? (
        <p className="px-3 py-4 text-xs text-bad">{localError ?? plainMessage(err)}</p>
      ) : !data ? (
        <p className="px-3 py-4 text-xs text-muted-foreground">Counting…</p>
      ) : (
        <div className={cn("flex min-h-0 flex-1 flex-col transition-opacity", p.isPlaceholderData && "opacity-60")}>
          <div className="flex items-baseline gap-2 px-3 pt-3">
            <span className="text-2xl font-semibold tabular tracking-[-0.02em]" data-testid="preview-count">
              {numberFmt.format(data.memberCount)}
            </span>
            <span className="text-xs text-muted-foreground">
              {data.memberCount === 1 ? "host" : "hosts"} · <span className="text-ok">{numberFmt.format(data.onlineCount)} online</span>
            </span>
          </div>
          {data.memberCount === 0 ? (
            <p className="px-3 pt-2 text-xs text-warn">No host matches yet. The group still works: hosts join as soon as they match.</p>
          ) : (
            <>
              <div className="mt-3 px-3 text-[11px] font-medium uppercase tracking-wide text-subtle-foreground">Kernel releases</div>
              <ul className="mt-1 space-y-0.5 px-3">
                {data.kernelReleases.slice(0, 5).map((k) => (
                  <li key={k.kernelRelease} className="flex items-center justify-between gap-2 text-xs">
                    <span className="truncate font-mono">{k.kernelRelease}</span>
                    <span className="tabular text-subtle-foreground">{numberFmt.format(k.hosts)}</span>
                  </li>
                ))}
                {data.kernelReleases.length > 5 ? <li className="text-xs text-subtle-foreground">and {data.kernelReleases.length - 5} more</li> : null}
              </ul>
              <div className="mt-3 px-3 text-[11px] font-medium uppercase tracking-wide text-subtle-foreground">Hosts</div>
              <ul className="scrollbar-thin mt-1 min-h-0 flex-1 overflow-y-auto px-3 pb-3">
                {data.sample.map((h) => (
                  <li key={h.id} className="flex items-center gap-1.5 truncate py-px text-xs">
                    <Server className="size-3 shrink-0 text-subtle-foreground" />
                    <span className="truncate">{h.hostname}</span>
                  </li>
                ))}
                {data.memberCount > data.sample.length ? (
                  <li className="pt-0.5 text-xs text-subtle-foreground">and {numberFmt.format(data.memberCount - data.sample.length)} more</li>
                ) : null}
              </ul>
            </>
          )}
        </div>
      )}
    </div>
  );
}

/** New group, or edit one: a name, a description and a selector, with the live member count beside it. */
export function GroupFormDialog({ open, onOpenChange, group }: { open: boolean; onOpenChange: (o: boolean) => void; group?: Group }) {
  const router = useRouter();
  const { data: summary } = useFleetSummary();
  const create = useCreateGroup();
  const update = useUpdateGroup(group?.id ?? "");
  const mutation = group ? update : create;

  const [name, setName] = React.useState("");
  const [description, setDescription] = React.useState("");
  const [mode, setMode] = React.useState<"match" | "all">("match");
  const [labelsText, setLabelsText] = React.useState("");
  const [releases, setReleases] = React.useState<string[]>([]);
  const [distros, setDistros] = React.useState<string[]>([]);
  const [hostIds, setHostIds] = React.useState<string[]>([]);
  const [reloadAtBoot, setReloadAtBoot] = React.useState(true);

  React.useEffect(() => {
    if (!open) return;
    setName(group?.name ?? "");
    setDescription(group?.description ?? "");
    setMode(group?.selector.all ? "all" : "match");
    setLabelsText(formatLabels(group?.selector.labels));
    setReleases(group?.selector.kernelReleases ?? []);
    setDistros(group?.selector.distros ?? []);
    setHostIds(group?.selector.hostIds ?? []);
    setReloadAtBoot(group?.reloadAtBoot ?? true);
    create.reset();
    update.reset();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, group?.id]);

  const parsed = parseLabels(labelsText);
  const selector: GroupSelector | null =
    mode === "all"
      ? { all: true }
      : Object.keys(parsed.labels).length + releases.length + distros.length + hostIds.length === 0
        ? null
        : {
            ...(Object.keys(parsed.labels).length ? { labels: parsed.labels } : {}),
            ...(releases.length ? { kernelReleases: releases } : {}),
            ...(distros.length ? { distros } : {}),
            ...(hostIds.length ? { hostIds } : {}),
          };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (parsed.error) return;
    try {
      const body = { name: name.trim(), description: description.trim(), selector: selector ?? {}, reloadAtBoot };
      const g = await mutation.mutateAsync(body as never);
      onOpenChange(false);
      if (!group) router.push(`/groups/${g.id}`);
    } catch {
      /* shown in the form */
    }
  };

  const err = mutation.error;
  const nameError = issueAt(err, "name") ?? (err && (err as { status?: number }).status === 409 ? plainMessage(err) : undefined);
  const selectorError = issueAt(err, "selector");
  const otherError = err && !nameError && !selectorError ? err : null;

  const kernelOptions: MultiSelectOption[] = (summary?.kernels ?? []).map((k) => ({ value: k.kernelRelease, label: k.kernelRelease, count: k.count }));
  const distroOptions: MultiSelectOption[] = (summary?.distros ?? []).map((d) => ({ value: d.id, label: d.name, count: d.count }));

  return (
    <Dialog open={open} onOpenChange={onOpenChange}>
      <DialogContent
        className="max-w-3xl"
        title={group ? `Edit ${group.name}` : "New group"}
        description="A group is a live selector over hosts: a host that starts matching joins it, one that stops matching leaves."
      >
        <form onSubmit={submit} className="grid gap-5 md:grid-cols-[minmax(0,1fr)_15rem]" data-testid="group-form">
          <div className="flex min-w-0 flex-col gap-4">
            <Field label="Name" htmlFor="group-name" error={nameError}>
              <Input
                id="group-name"
                autoFocus
                value={name}
                onChange={(e) => setName(e.target.value)}
                placeholder="e.g. prod-web"
                maxLength={64}
                aria-invalid={!!nameError}
              />
            </Field>
            <Field label="Description (optional)" htmlFor="group-description">
              <Textarea id="group-description" rows={2} value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What these hosts are, who owns them" maxLength={2000} />
            </Field>
            <label className="flex cursor-pointer items-start gap-2.5 text-[13px]">
              <input
                type="checkbox"
                className="mt-0.5 size-3.5 accent-primary"
                checked={reloadAtBoot}
                onChange={(e) => setReloadAtBoot(e.target.checked)}
                data-testid="group-reload-at-boot"
              />
              <span className="flex flex-col gap-0.5">
                <span className="font-medium">Load patches again after a reboot</span>
                <span className="text-xs text-muted-foreground">
                  Members&apos; agents reload the patches they were given when the host boots the same kernel, before they connect. Turned off in any of a host&apos;s groups, it is off for that host.
                </span>
              </span>
            </label>
            <fieldset className="flex flex-col gap-3">
              <legend className="mb-1.5 text-xs font-medium text-muted-foreground">Members</legend>
              <div className="grid grid-cols-2 gap-2">
                {(
                  [
                    ["match", <SlidersHorizontal key="i" />, "Hosts matching", "Labels, kernel releases, distributions"],
                    ["all", <Globe key="i" />, "All hosts", "Every active host, now and later"],
                  ] as const
                ).map(([value, icon, title, hint]) => (
                  <label
                    key={value}
                    className={cn(
                      "flex cursor-pointer items-start gap-2.5 rounded-md border p-2.5 text-xs transition-colors has-[:focus-visible]:ring-2 has-[:focus-visible]:ring-ring/30",
                      mode === value ? "border-primary/50 bg-accent" : "border-border hover:bg-muted",
                    )}
                  >
                    <input type="radio" name="group-mode" value={value} checked={mode === value} onChange={() => setMode(value)} className="sr-only" data-testid={`group-mode-${value}`} />
                    <span className={cn("mt-px [&_svg]:size-4", mode === value ? "text-primary" : "text-subtle-foreground")}>{icon}</span>
                    <span>
                      <span className="block text-[13px] font-medium text-foreground">{title}</span>
                      <span className="mt-0.5 block text-muted-foreground">{hint}</span>
                    </span>
                  </label>
                ))}
              </div>
              {mode === "match" ? (
                <div className="flex flex-col gap-3 rounded-md border border-border p-3">
                  <Field
                    label={
                      <span className="flex items-center gap-1.5">
                        <Tag className="size-3" /> Labels <span className="font-normal text-subtle-foreground">· all must match</span>
                      </span>
                    }
                    htmlFor="group-labels"
                    error={parsed.error ?? selectorError}
                    hint={summary?.labels.length ? `In the fleet: ${summary.labels.slice(0, 4).map((l) => `${l.key}=${l.value}`).join(", ")}${summary.labels.length > 4 ? ", …" : ""}` : "key=value, separated by commas"}
                  >
                    <Input
                      id="group-labels"
                      value={labelsText}
                      onChange={(e) => setLabelsText(e.target.value)}
                      placeholder="env=prod, role=web"
                      className="font-mono text-xs"
                      aria-invalid={!!parsed.error}
                      data-testid="group-labels"
                    />
                  </Field>
                  <div className="grid gap-3 sm:grid-cols-2">
                    <Field
                      label={
                        <span className="flex items-center gap-1.5">
                          <Cpu className="size-3" /> Kernel releases <span className="font-normal text-subtle-foreground">· any of</span>
                        </span>
                      }
                      htmlFor="group-kernels"
                    >
                      <MultiSelect id="group-kernels" icon={<Cpu />} placeholder="Any kernel" options={kernelOptions} value={releases} onChange={setReleases} mono testId="group-kernels" noMatch="Nothing in the fleet matches." />
                    </Field>
                    <Field
                      label={
                        <span className="flex items-center gap-1.5">
                          <Layers className="size-3" /> Distributions <span className="font-normal text-subtle-foreground">· any of</span>
                        </span>
                      }
                      htmlFor="group-distros"
                    >
                      <MultiSelect id="group-distros" icon={<Layers />} placeholder="Any distribution" options={distroOptions} value={distros} onChange={setDistros} testId="group-distros" noMatch="Nothing in the fleet matches." />
                    </Field>
                  </div>
                  {hostIds.length > 0 ? (
                    <div className="flex items-center justify-between gap-2 text-xs text-muted-foreground">
                      <span>
                        Plus <Badge>{numberFmt.format(hostIds.length)}</Badge> hosts listed by id (set through the API).
                      </span>
                      <Button size="sm" variant="ghost" onClick={() => setHostIds([])}>
                        Remove them
                      </Button>
                    </div>
                  ) : null}
                </div>
              ) : null}
            </fieldset>
            {otherError ? <InlineError error={plainMessage(otherError)} /> : null}
          </div>
          <div className="flex min-h-64 flex-col gap-3">
            <div className="min-h-0 flex-1">
              <PreviewPanel selector={selector} localError={parsed.error} />
            </div>
            <div className="flex justify-end gap-2">
              <Button variant="ghost" onClick={() => onOpenChange(false)}>
                Cancel
              </Button>
              <Button type="submit" variant="primary" loading={mutation.isPending} disabled={!name.trim() || !selector || !!parsed.error} data-testid="group-submit">
                {group ? "Save" : "Create group"}
              </Button>
            </div>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
