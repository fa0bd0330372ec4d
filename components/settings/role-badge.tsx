import type { Role } from "@/lib/api/schemas";
import { Badge } from "../ui/badge";
import { Field } from "../ui/input";
import { Select } from "../ui/select";

export const ROLE_OPTIONS: { value: Role; label: string; hint: string }[] = [
  { value: "viewer", label: "Viewer", hint: "read only" },
  { value: "operator", label: "Operator", hint: "labels, rollouts" },
  { value: "admin", label: "Admin", hint: "everything" },
];

export function RoleBadge({ role }: { role: Role }) {
  return (
    <Badge tone={role === "admin" ? "accent" : "neutral"} className="capitalize">
      {role}
    </Badge>
  );
}

/** The "Role" field of a form: a select of the three roles with their hints. */
export function RoleField({ id, value, onChange }: { id: string; value: Role; onChange: (role: Role) => void }) {
  return (
    <Field label="Role" htmlFor={id}>
      <Select id={id} ariaLabel="Role" value={value} onValueChange={(v) => onChange(v as Role)} options={ROLE_OPTIONS} className="w-full" />
    </Field>
  );
}
