import { NextResponse } from "next/server";
import { appendAudit } from "@/lib/audit/append";
import { SESSION_COOKIE, deleteSession } from "@/lib/auth/sessions";
import { prisma } from "@/lib/db/client";
import { route } from "@/lib/http/route";

export const POST = route({ auth: "public" }, async ({ req, actor }) => {
  const token = req.cookies.get(SESSION_COOKIE)?.value;
  if (token) await deleteSession(token);
  if (actor?.type === "operator") {
    await prisma.$transaction((tx) => appendAudit(tx, { actor, action: "auth.logout", target: { type: "operator", id: actor.id } }));
  }
  const res = NextResponse.json({ ok: true });
  res.cookies.delete(SESSION_COOKIE);
  return res;
});
