import { NextResponse } from "next/server";
import { LoginBodySchema } from "@/lib/api/schemas";
import { login } from "@/lib/auth/login";
import { SESSION_COOKIE } from "@/lib/auth/sessions";
import { route } from "@/lib/http/route";

export const POST = route({ auth: "public", body: LoginBodySchema }, async ({ req, body, ip }) => {
  const s = await login({ ...body, ip, userAgent: req.headers.get("user-agent") });
  const res = NextResponse.json({ operator: s.operator });
  res.cookies.set(SESSION_COOKIE, s.token, {
    httpOnly: true,
    sameSite: "lax",
    secure: req.nextUrl.protocol === "https:",
    path: "/",
    expires: s.expiresAt,
  });
  return res;
});
