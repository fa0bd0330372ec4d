import { getSessionOperator } from "@/lib/auth/session";
import { ConsoleShell } from "@/components/shell/console-shell";
import { LoginRedirect } from "@/components/auth/login-redirect";

// Every console page depends on who is signed in.
export const dynamic = "force-dynamic";

export default async function ConsoleLayout({ children }: { children: React.ReactNode }) {
  const me = await getSessionOperator();
  // No session: nothing of the console is rendered; the client goes to /login?next=<this page>.
  if (!me) return <LoginRedirect />;
  return <ConsoleShell operator={{ id: me.id, username: me.username, role: me.role }}>{children}</ConsoleShell>;
}
