"use client";
import * as React from "react";
import Link from "next/link";
import { Boxes, GitCompareArrows, Plus, Search, ShieldAlert, Tag, X } from "lucide-react";
import { useGroup } from "../hooks/use-groups";
import { usePatches } from "../hooks/use-patches";
import type { FleetSummary } from "@/lib/api/schemas";
import { ALL, Select } from "../ui/select";
import { IconInput, Input } from "../ui/input";
import { RemovableChip } from "../ui/chip";
import { Button } from "../ui/button";
import { Popover, PopoverContent, PopoverTrigger } from "../ui/popover";
import { LabelChip } from "./label-chips";
import { numberFmt } from "../ui/time";
import type { HostsFilter } from "../hooks/use-hosts";
import { useDebouncedText } from "../hooks/use-debounced-text";

type Update = (patch: Record<string, string | string[] | undefined | null>) => void;

/** Every filter the hosts page understands, cleared. */
export const CLEAR_FILTERS = { q: undefined, kernel: undefined, distro: undefined, online: undefined, status: undefined, label: undefined, group: undefined, missing: undefined, drifting: undefined };

/** A filter set from elsewhere (a group's page, the exposure view), shown by name and removable. */
function ScopeChip({ icon, prefix, name, href, onRemove, testId }: { icon: React.ReactNode; prefix: string; name: React.ReactNode; href: string; onRemove: () => void; testId: string }) {
  return (
    <RemovableChip className="max-w-[22rem] pl-1.5" removeLabel={`Remove filter: ${prefix}`} onRemove={onRemove} testId={testId}>
      <span className="[&_svg]:size-3">{icon}</span>
      <span className="shrink-0 text-muted-foreground">{prefix}</span>
      <Link href={href} className="truncate font-medium hover:underline">
        {name}
      </Link>
    </RemovableChip>
  );
}

function GroupChip({ id, onRemove }: { id: string; onRemove: () => void }) {
  const { data } = useGroup(id);
  return <ScopeChip icon={<Boxes />} prefix="In group" name={data?.name ?? id.slice(0, 8)} href={`/groups/${id}`} onRemove={onRemove} testId="filter-group" />;
}

function MissingChip({ id, onRemove }: { id: string; onRemove: () => void }) {
  const { data } = usePatches();
  const p = data?.items.find((x) => x.id === id);
  return <ScopeChip icon={<ShieldAlert className="text-bad" />} prefix="Missing patch" name={p?.title ?? id.slice(0, 8)} href={`/patches/${id}`} onRemove={onRemove} testId="filter-missing" />;
}

function SearchBox({ value, onChange }: { value: string; onChange: (v: string) => void }) {
  // Follows the URL when it changes from elsewhere (top-bar search, back button).
  const { text, setText, commit } = useDebouncedText(value, onChange, 250);
  return (
    <IconInput
      icon={Search}
      type="search"
      aria-label="Filter hosts"
      placeholder="Hostname, kernel, IP, machine id…"
      value={text}
      onChange={(e) => setText(e.target.value)}
      onKeyDown={(e) => {
        if (e.key === "Enter") commit();
      }}
      className="w-full sm:w-72"
      data-testid="hosts-search"
    />
  );
}

function LabelFilter({ labels, active, onAdd }: { labels: FleetSummary["labels"]; active: string[]; onAdd: (l: string) => void }) {
  const [open, setOpen] = React.useState(false);
  const [text, setText] = React.useState("");
  const t = text.trim().toLowerCase();
  const suggestions = labels
    .filter((l) => !active.includes(`${l.key}=${l.value}`))
    .filter((l) => !t || `${l.key}=${l.value}`.toLowerCase().includes(t))
    .slice(0, 8);
  const add = (v: string) => {
    const s = v.trim();
    if (!s) return;
    onAdd(s);
    setText("");
    setOpen(false);
  };
  return (
    <Popover open={open} onOpenChange={setOpen}>
      <PopoverTrigger asChild>
        <Button variant="secondary" className="border-dashed" aria-label="Filter by label">
          <Tag /> Label
          <Plus className="!size-3 text-subtle-foreground" />
        </Button>
      </PopoverTrigger>
      <PopoverContent className="w-80 p-0">
        <form
          className="border-b border-border p-2"
          onSubmit={(e) => {
            e.preventDefault();
            add(text);
          }}
        >
          <Input
            autoFocus
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="key=value or key"
            className="font-mono text-xs"
            aria-label="Label selector"
          />
        </form>
        <div className="max-h-64 overflow-y-auto p-1">
          {suggestions.length === 0 ? (
            <p className="px-2 py-2 text-xs text-muted-foreground">
              {text.trim() ? (
                <>
                  Press Enter to filter by <code className="font-mono">{text.trim()}</code>
                </>
              ) : (
                "No labels in the fleet yet."
              )}
            </p>
          ) : (
            suggestions.map((l) => (
              <button
                key={`${l.key}=${l.value}`}
                type="button"
                onClick={() => add(`${l.key}=${l.value}`)}
                className="flex w-full items-center gap-2 rounded px-2 py-1.5 text-left hover:bg-muted focus-visible:bg-muted"
              >
                <LabelChip k={l.key} v={l.value} />
                <span className="ml-auto text-xs tabular text-subtle-foreground">{numberFmt.format(l.count)}</span>
              </button>
            ))
          )}
        </div>
      </PopoverContent>
    </Popover>
  );
}

export function HostsFilters({
  filter,
  update,
  summary,
  activeFilterCount,
}: {
  filter: HostsFilter;
  update: Update;
  summary: FleetSummary | undefined;
  activeFilterCount: number;
}) {
  const stateValue = filter.status ? filter.status : filter.online === "true" ? "online" : filter.online === "false" ? "offline" : ALL;
  const onSearch = React.useCallback((v: string) => update({ q: v || undefined }), [update]);

  const kernelOptions = [
    { value: ALL, label: "All kernels" },
    ...(summary?.kernels ?? []).map((k) => ({ value: k.kernelRelease, label: k.kernelRelease, hint: numberFmt.format(k.count) })),
  ];
  if (filter.kernel && !kernelOptions.some((o) => o.value === filter.kernel)) kernelOptions.push({ value: filter.kernel, label: filter.kernel, hint: "0" });
  const distroOptions = [
    { value: ALL, label: "All distributions" },
    ...(summary?.distros ?? []).map((d) => ({ value: d.id, label: d.name, hint: numberFmt.format(d.count) })),
  ];
  if (filter.distro && !distroOptions.some((o) => o.value === filter.distro)) distroOptions.push({ value: filter.distro, label: filter.distro, hint: "0" });

  return (
    <div className="flex flex-col gap-2">
      <div className="flex flex-wrap items-center gap-2">
        <SearchBox value={filter.q ?? ""} onChange={onSearch} />
        <Select
          ariaLabel="Kernel release"
          value={filter.kernel ?? ALL}
          onValueChange={(v) => update({ kernel: v === ALL ? undefined : v })}
          options={kernelOptions}
          mono={!!filter.kernel}
          className="w-56"
          prefix={filter.kernel ? "Kernel" : undefined}
        />
        <Select
          ariaLabel="Distribution"
          value={filter.distro ?? ALL}
          onValueChange={(v) => update({ distro: v === ALL ? undefined : v })}
          options={distroOptions}
          className="w-48"
        />
        <Select
          ariaLabel="State"
          value={stateValue}
          onValueChange={(v) =>
            update({
              online: v === "online" ? "true" : v === "offline" ? "false" : undefined,
              status: v === "revoked" || v === "decommissioned" ? v : undefined,
            })
          }
          options={[
            { value: ALL, label: "Any state" },
            { value: "online", label: "Online", hint: summary ? numberFmt.format(summary.online) : undefined },
            { value: "offline", label: "Offline", hint: summary ? numberFmt.format(summary.offline) : undefined },
            { value: "revoked", label: "Revoked", hint: summary ? numberFmt.format(summary.revoked) : undefined },
            { value: "decommissioned", label: "Decommissioned" },
          ]}
          className="w-36"
        />
        <LabelFilter labels={summary?.labels ?? []} active={filter.label ?? []} onAdd={(l) => update({ label: [...(filter.label ?? []).filter((x) => x !== l), l] })} />
        {activeFilterCount > 0 ? (
          <Button variant="ghost" onClick={() => update(CLEAR_FILTERS)}>
            <X /> Clear
          </Button>
        ) : null}
      </div>
      {filter.group || filter.missing || filter.drifting ? (
        <div className="flex flex-wrap items-center gap-1.5" aria-label="Scope filters">
          {filter.drifting ? (
            <RemovableChip className="pl-1.5" removeLabel="Remove filter: drifting" onRemove={() => update({ drifting: undefined })} testId="filter-drifting">
              <GitCompareArrows className="size-3 text-warn" />
              <span className="font-medium">Drifting</span>
              <span className="text-muted-foreground">live patches differ from what rollouts applied</span>
            </RemovableChip>
          ) : null}
          {filter.missing ? <MissingChip id={filter.missing} onRemove={() => update({ missing: undefined })} /> : null}
          {filter.group ? <GroupChip id={filter.group} onRemove={() => update({ group: undefined })} /> : null}
        </div>
      ) : null}
      {filter.label && filter.label.length > 0 ? (
        <div className="flex flex-wrap items-center gap-1.5" aria-label="Label filters">
          <span className="text-xs text-muted-foreground">Labels:</span>
          {filter.label.map((l) => {
            const eq = l.indexOf("=");
            const k = eq < 0 ? l : l.slice(0, eq);
            const v = eq < 0 ? "" : l.slice(eq + 1);
            return (
              <RemovableChip
                key={l}
                size="fit"
                removeLabel={`Remove label filter ${l}`}
                onRemove={() => update({ label: filter.label!.filter((x) => x !== l) })}
                buttonClassName="text-muted-foreground hover:text-foreground"
              >
                <LabelChip k={k} v={v} className="border-0 bg-transparent" />
              </RemovableChip>
            );
          })}
        </div>
      ) : null}
    </div>
  );
}
