// The demo fleet of `npm start`: simulated agents (the real agent code, simulate backend) in
// this process, enrolled with a token the console issues to itself.
import path from "node:path";
import { SYSTEM } from "@/lib/audit/actor";
import { createEnrollmentToken } from "@/lib/fleet/enrollment-tokens";

export async function startDemoFleet(opts: { serverUrl: string; agents: number; dataDir: string }): Promise<{ stop(): Promise<void> }> {
  const { startFleet } = await import("@/agent/sim/fleet");
  const token = await createEnrollmentToken({ actor: SYSTEM, note: "demo fleet (npm start)", maxUses: opts.agents, expiresInHours: 1 });
  return startFleet({
    server: opts.serverUrl,
    enrollToken: token.token,
    agents: opts.agents,
    stateDir: path.join(opts.dataDir, "demo-fleet"),
    quiet: true,
  } as never);
}
