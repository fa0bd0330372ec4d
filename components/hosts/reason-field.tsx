import { Field, Textarea } from "../ui/input";

/** Why an admin acts on a host (revoke, restore, merge): kept with the action in the audit log. */
export function AuditReasonField({ id, value, onChange }: { id: string; value: string; onChange: (v: string) => void }) {
  return (
    <Field label="Reason (recorded in the audit log)" htmlFor={id}>
      <Textarea id={id} value={value} onChange={(e) => onChange(e.target.value)} maxLength={500} rows={2} placeholder="e.g. host reimaged, ticket OPS-1234" />
    </Field>
  );
}
