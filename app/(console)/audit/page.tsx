import type { Metadata } from "next";
import { AuditView } from "@/components/audit/audit-view";

export const metadata: Metadata = { title: "Audit log" };

export default function AuditPage() {
  // Rendered per request (the console layout is dynamic), so URL state is there on the server too.
  return <AuditView />;
}
