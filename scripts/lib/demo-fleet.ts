// The demo fleet of `npm start`: simulated agents (the real agent code, simulate backend) in
// this process, enrolled with a token the console issues to itself.
import path from "node:path";
import { startFleet, type Fleet } from "@/agent/sim/fleet";
import { Logger } from "@/agent/log";
import { SYSTEM } from "@/lib/audit/actor";
import { createEnrollmentToken } from "@/lib/fleet/enrollment-tokens";

export async function startDemoFleet(opts: { serverUrl: string; agents: number; dataDir: string }): Promise<Fleet> {
  const token = await createEnrollmentToken({ actor: SYSTEM, note: "demo fleet (npm start)", maxUses: opts.agents, expiresInHours: 1 });
  return startFleet({
    server: opts.serverUrl,
    enrollToken: token.token,
    agents: opts.agents,
    // Identities persist here, so a restarted demo reconnects the same hosts instead of adding new ones.
    stateDir: path.join(opts.dataDir, "demo-fleet"),
    seed: "demo",
    progress: false,
    log: new Logger("warn"),
  });
}
