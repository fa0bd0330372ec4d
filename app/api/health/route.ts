import { NextResponse } from "next/server";
import { prisma } from "@/lib/db/client";

export const dynamic = "force-dynamic";

export async function GET() {
  const started = performance.now();
  try {
    await prisma.$queryRaw`select 1`;
    return NextResponse.json({ ok: true, db: { ok: true, latencyMs: Math.round((performance.now() - started) * 10) / 10 } });
  } catch {
    return NextResponse.json({ ok: false, db: { ok: false } }, { status: 503 });
  }
}
