import { redirect } from "next/navigation";
import { getSessionOperator } from "@/lib/auth/session";
import { ConsoleShell } from "@/components/shell/console-shell";

// Every console page depends on who is signed in.
export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const me = await getSessionOperator();
  if (!me) redirect("/login");
  return <ConsoleShell operator={{ id: me.id, username: me.username, role: me.role }}>{children}</ConsoleShell>;
}
