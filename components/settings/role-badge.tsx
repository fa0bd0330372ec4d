import type { Role } from "@/lib/api/schemas";
import { Badge } from "../ui/badge";

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
