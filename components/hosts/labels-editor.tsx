"use client";
import * as React from "react";
import { Pencil, Plus, Trash2 } from "lucide-react";
import { LabelKeySchema, LabelValueSchema } from "@/lib/api/schemas";
import { useUpdateHostLabels } from "../hooks/use-hosts";
import { Button } from "../ui/button";
import { Input } from "../ui/input";
import { InlineError } from "../ui/error-state";
import { LabelChip } from "./label-chips";
import Link from "next/link";

interface Row {
  key: string;
  value: string;
  id: number;
}

let nextId = 1;
const toRows = (labels: Record<string, string>): Row[] =>
  Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => ({ key, value, id: nextId++ }));

function validate(rows: Row[]): { errors: Map<number, string>; labels: Record<string, string> } {
  const errors = new Map<number, string>();
  const labels: Record<string, string> = {};
  for (const r of rows) {
    const key = r.key.trim();
    const value = r.value.trim();
    if (!key && !value) continue;
    const k = LabelKeySchema.safeParse(key);
    if (!k.success) {
      errors.set(r.id, k.error.issues[0]?.message ?? "invalid key");
      continue;
    }
    const v = LabelValueSchema.safeParse(value);
    if (!v.success) {
      errors.set(r.id, v.error.issues[0]?.message ?? "invalid value");
      continue;
    }
    if (key in labels) {
      errors.set(r.id, `duplicate key “${key}”`);
      continue;
    }
    labels[key] = value;
  }
  return { errors, labels };
}

/** key=value labels: read-only chips for viewers, an inline editor for operators and admins. */
export function LabelsEditor({ hostId, labels, canEdit }: { hostId: string; labels: Record<string, string>; canEdit: boolean }) {
  const [editing, setEditing] = React.useState(false);
  const [rows, setRows] = React.useState<Row[]>([]);
  const mutation = useUpdateHostLabels(hostId);
  const { errors, labels: parsed } = validate(rows);
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));

  const start = () => {
    const r = toRows(labels);
    setRows(r.length ? r : [{ key: "", value: "", id: nextId++ }]);
    mutation.reset();
    setEditing(true);
  };
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (errors.size) return;
    try {
      await mutation.mutateAsync(parsed);
      setEditing(false);
    } catch {
      /* shown below */
    }
  };

  if (!editing) {
    return (
      <div>
        {entries.length === 0 ? (
          <p className="text-[13px] text-muted-foreground">
            No labels. {canEdit ? "Labels like env=prod or team=db let you target groups of hosts in rollouts." : null}
          </p>
        ) : (
          <ul className="flex flex-wrap gap-1.5" data-testid="host-labels">
            {entries.map(([k, v]) => (
              <li key={k}>
                <Link href={`/hosts?label=${encodeURIComponent(`${k}=${v}`)}`} className="rounded hover:opacity-80" title={`Hosts with ${k}=${v}`}>
                  <LabelChip k={k} v={v} className="h-6 text-xs" />
                </Link>
              </li>
            ))}
          </ul>
        )}
        {canEdit ? (
          <Button size="sm" className="mt-3" onClick={start}>
            <Pencil /> Edit labels
          </Button>
        ) : null}
      </div>
    );
  }

  return (
    <form onSubmit={save} className="flex flex-col gap-2" aria-label="Edit labels">
      <div className="grid grid-cols-[1fr_1fr_auto] gap-x-1.5 gap-y-0.5 text-[11px] font-medium uppercase tracking-wide text-subtle-foreground">
        <span>Key</span>
        <span>Value</span>
        <span className="w-7" />
      </div>
      {rows.map((r, i) => (
        <div key={r.id}>
          <div className="grid grid-cols-[1fr_1fr_auto] items-center gap-1.5">
            <Input
              aria-label={`Label ${i + 1} key`}
              value={r.key}
              autoFocus={i === rows.length - 1 && !r.key}
              placeholder="env"
              onChange={(e) => setRows((rs) => rs.map((x) => (x.id === r.id ? { ...x, key: e.target.value } : x)))}
              className="h-7 font-mono text-xs"
              aria-invalid={errors.has(r.id)}
            />
            <Input
              aria-label={`Label ${i + 1} value`}
              value={r.value}
              placeholder="prod"
              onChange={(e) => setRows((rs) => rs.map((x) => (x.id === r.id ? { ...x, value: e.target.value } : x)))}
              className="h-7 font-mono text-xs"
              aria-invalid={errors.has(r.id)}
            />
            <Button
              size="icon-sm"
              variant="ghost"
              aria-label={`Remove label ${r.key || i + 1}`}
              onClick={() => setRows((rs) => rs.filter((x) => x.id !== r.id))}
            >
              <Trash2 />
            </Button>
          </div>
          {errors.has(r.id) ? <p className="mt-0.5 text-[11px] text-bad">{errors.get(r.id)}</p> : null}
        </div>
      ))}
      <div>
        <Button size="sm" variant="ghost" onClick={() => setRows((rs) => [...rs, { key: "", value: "", id: nextId++ }])}>
          <Plus /> Add label
        </Button>
      </div>
      {mutation.error ? <InlineError error={mutation.error} /> : null}
      <div className="flex justify-end gap-2 border-t border-border pt-3">
        <Button size="sm" variant="ghost" onClick={() => setEditing(false)}>
          Cancel
        </Button>
        <Button size="sm" variant="primary" type="submit" loading={mutation.isPending} disabled={errors.size > 0}>
          Save labels
        </Button>
      </div>
    </form>
  );
}
