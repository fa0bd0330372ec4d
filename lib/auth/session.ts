import "server-only";
import { cookies } from "next/headers";
import type { Me } from "@/lib/api/schemas";
import { SESSION_COOKIE, validateSessionToken } from "./sessions";

/** For server components and layouts: the signed-in operator, or null. */
export async function getSessionOperator(): Promise<Me | null> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  return token ? validateSessionToken(token) : null;
}
