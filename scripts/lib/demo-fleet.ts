// The demo fleet of `npm start`: simulated agents (the real agent code, simulate backend) in
// this process, enrolled with a token the console issues to itself, with labels and groups so
// that a first look at the console shows a fleet an operator would recognise.
import path from "node:path";
import { startFleet, type Fleet } from "@/agent/sim/fleet";
import { Logger } from "@/agent/log";
import type { GroupCreate } from "@/lib/api/schemas";
import { SYSTEM } from "@/lib/audit/actor";
import { appendAudit } from "@/lib/audit/append";
import { prisma } from "@/lib/db/client";
import { createEnrollmentToken } from "@/lib/agents/enrollment-tokens";
import { createGroup } from "@/lib/groups/groups";

const DEMO_GROUPS: GroupCreate[] = [
  { name: "All hosts", description: "Every active host", selector: { all: true }, reloadAtBoot: true },
  { name: "Production", description: "Hosts labelled env=prod", selector: { labels: { env: "prod" } }, reloadAtBoot: true },
  // Reboots take patches out here: the demo's drift (the fleet reboots a host now and then).
  { name: "Staging", description: "Try patches here first; a reboot takes them out again", selector: { labels: { env: "staging" } }, reloadAtBoot: false },
  { name: "Web tier (prod)", description: "Production web servers", selector: { labels: { env: "prod", role: "web" } }, reloadAtBoot: true },
];

/**
 * Labels from the demo hostnames (`web-prod-002.ams2` → env=prod, role=web, site=ams2) for hosts
 * that have none yet, and the demo groups if there are no groups at all. Never touches what an
 * operator has set.
 */
async function seedDemo(): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const labelled = await tx.$executeRaw`
    update "Host" set labels = jsonb_build_object(
      'role', substring(hostname from '^([a-z]+)-'),
      'env', substring(hostname from '^[a-z]+-([a-z]+)-'),
      'site', substring(hostname from '\\.([a-z0-9]+)$'))
    where labels = '{}'::jsonb and hostname ~ '^[a-z]+-[a-z]+-[0-9]+\\.[a-z0-9]+$'`;
    if (labelled > 0) {
      await appendAudit(tx, { actor: SYSTEM, action: "demo.hosts_labelled", details: { hosts: labelled, from: "hostnames (role-env-NNN.site)" } });
    }
  });
  if ((await prisma.group.count()) > 0) return;
  for (const input of DEMO_GROUPS) await createGroup({ actor: SYSTEM, input });
}

export async function startDemoFleet(opts: { serverUrl: string; agents: number; dataDir: string }): Promise<Fleet> {
  const token = await createEnrollmentToken({ actor: SYSTEM, note: "demo fleet (npm start)", maxUses: opts.agents, expiresInHours: 1 });
  const fleet = await startFleet({
    server: opts.serverUrl,
    enrollToken: token.token,
    agents: opts.agents,
    // Identities persist here, so a restarted demo reconnects the same hosts instead of adding new ones.
    stateDir: path.join(opts.dataDir, "demo-fleet"),
    seed: "demo",
    progress: false,
    log: new Logger("warn"),
    // Rollouts take a visible moment per host, and now and then a host fails, as real ones do.
    applyMs: 1200,
    failureRate: 0.02,
    // A host reboots every few minutes: production hosts reload their patches, staging ones drift.
    rebootEverySec: 240,
  });
  await seedDemo();
  return fleet;
}
