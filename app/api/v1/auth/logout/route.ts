import { NextResponse } from "next/server";
import { SESSION_COOKIE, logout } from "@/lib/auth/sessions";
import { route } from "@/lib/http/route";

export const POST = route({ auth: "public" }, async ({ req, actor }) => {
  await logout({ token: req.cookies.get(SESSION_COOKIE)?.value ?? null, actor });
  const res = NextResponse.json({ ok: true });
  res.cookies.delete(SESSION_COOKIE);
  return res;
});
