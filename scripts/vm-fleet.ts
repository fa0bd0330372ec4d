// `npm run vm:fleet -- --releases 6.1.0-50-amd64,6.1.0-47-amd64 --server URL --enroll-token T`
// Boots one QEMU guest per Debian kernel release, each running the real agent (livepatch backend)
// on its real kernel, enrolled with the console; runs until Ctrl-C. Lines typed on stdin run in
// every guest's root shell (or in one: `vm-6-1-0-50-amd64: cat /proc/cmdline`).
import path from "node:path";
import readline from "node:readline";
import { z } from "zod";
import { parseFlags } from "./lib/cli";
import { missingVmTools, prepareGuest, type PreparedGuest } from "./lib/vm/fleet";
import { RELEASE_RE } from "./lib/vm/kernel";

const ROOT = path.resolve(import.meta.dirname, "..");

const USAGE = `Usage: npm run vm:fleet -- --releases R1,R2 --server URL --enroll-token TOKEN [options]

Boots one QEMU guest (software emulation) per Debian kernel release, each running the agent with
the livepatch backend on its real kernel. Kernel packages are fetched with apt-get download.

  --releases LIST        comma-separated kernel releases, e.g. 6.1.0-50-amd64,6.1.0-47-amd64
                         (\`apt-cache search linux-image-6.1.0 | grep unsigned\` lists them)
  --server URL           console URL as this machine sees it (or SPLICER_SERVER); a console on
                         127.0.0.1/localhost:PORT is reached from the guests at 10.0.2.2:PORT
  --enroll-token TOKEN   enrollment token with a use per guest (or SPLICER_ENROLL_TOKEN); guests
                         enroll again at every boot (their state is in memory) and keep their
                         host because their machine id is stable
  --data-dir DIR         downloads and initramfs cache in DIR/vm-cache, guests' files and
                         serial logs in DIR/vm-run/<hostname> (default .data)
  --memory MIB           memory per guest (default 768)
  --agent-log-level L    debug, info, warn, error (default info)
  --boot-timeout SEC     per guest, until the agent is connected (default 180)
  -h, --help
`;

const Schema = z.object({
  releases: z
    .string({ error: "is required" })
    .transform((s) => s.split(",").map((r) => r.trim()).filter(Boolean))
    .refine((rs) => rs.length > 0, "needs at least one release")
    .refine((rs) => rs.every((r) => RELEASE_RE.test(r)), "each must be a Debian kernel release such as 6.1.0-50-amd64")
    .refine((rs) => new Set(rs).size === rs.length, "lists a release twice"),
  server: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }),
  enrollToken: z.string({ error: "is required" }).min(8, "must be at least 8 characters"),
  dataDir: z.string().min(1).default(".data"),
  memory: z.coerce.number().int().min(256, "must be at least 256").max(16384).default(768),
  agentLogLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  bootTimeout: z.coerce.number().int().min(10).max(3600).default(180),
});

function parse(): z.infer<typeof Schema> {
  return parseFlags({
    name: "vm-fleet",
    usage: USAGE,
    options: {
      releases: { type: "string" },
      server: { type: "string" },
      "enroll-token": { type: "string" },
      "data-dir": { type: "string" },
      memory: { type: "string" },
      "agent-log-level": { type: "string" },
      "boot-timeout": { type: "string" },
    },
    schema: Schema,
    input: (values) => ({
      releases: values.releases,
      server: values.server ?? process.env.SPLICER_SERVER,
      enrollToken: values["enroll-token"] ?? process.env.SPLICER_ENROLL_TOKEN,
      dataDir: values["data-dir"],
      memory: values.memory,
      agentLogLevel: values["agent-log-level"],
      bootTimeout: values["boot-timeout"],
    }),
  });
}

async function main(): Promise<void> {
  const o = parse();
  const missing = missingVmTools();
  if (missing.length) {
    process.stderr.write(`vm-fleet: missing: ${missing.join("; ")}\n`);
    process.exit(2);
  }
  const dataDir = path.resolve(ROOT, o.dataDir);
  const t0 = Date.now();
  const say = (m: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`);

  const guests: PreparedGuest[] = [];
  const stopAll = async () => {
    await Promise.all(guests.map((g) => g.guest.stop()));
  };
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130);
    stopping = true;
    say("stopping the guests");
    void stopAll().then(() => process.exit(0));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  // Sequentially: the first one downloads and builds the shared base initramfs.
  for (const release of o.releases) {
    guests.push(
      await prepareGuest({
        release,
        server: o.server,
        enrollToken: o.enrollToken,
        cacheDir: path.join(dataDir, "vm-cache"),
        runDir: path.join(dataDir, "vm-run", release),
        agentBundle: path.join(ROOT, "agent/dist/splicer-agent.js"),
        memoryMb: o.memory,
        agentLogLevel: o.agentLogLevel,
        progress: say,
      }),
    );
  }
  say(`guests reach the console at ${guests[0]!.guestServer}; initramfs ${(guests[0]!.initrdBytes / 1e6).toFixed(1)} MB`);
  const results = await Promise.allSettled(guests.map((g) => g.guest.boot({ waitForAgent: true, timeoutMs: o.bootTimeout * 1000 })));
  let failed = 0;
  results.forEach((r, i) => {
    const g = guests[i]!;
    if (r.status === "fulfilled") {
      say(`${g.hostname}  kernel ${g.release}  boot id ${r.value.bootId}  up ${(r.value.readyMs / 1000).toFixed(1)} s  agent connected ${((r.value.agentConnectedMs ?? 0) / 1000).toFixed(1)} s`);
    } else {
      failed++;
      say(`${g.hostname}: FAILED: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}\n--- agent log ---\n${g.guest.agentLog().split("\n").slice(-15).join("\n")}`);
    }
  });
  if (failed === guests.length) {
    await stopAll();
    process.exit(1);
  }
  say(`serial logs: ${path.join(dataDir, "vm-run", "<release>", "{console,agent}.log")}`);
  say(`type a shell command to run it in every guest (or "<hostname>: command" for one); Ctrl-C stops them`);

  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    const m = /^(vm-[a-z0-9-]+):\s*(.*)$/.exec(line);
    const targets = m ? guests.filter((g) => g.hostname === m[1]) : guests;
    const cmd = (m ? m[2]! : line).trim();
    if (!cmd) return;
    if (targets.length === 0) return say(`no guest named ${m![1]}`);
    await Promise.all(
      targets.filter((g) => g.guest.running).map(async (g) => {
        try {
          const r = await g.guest.exec(cmd, { timeoutMs: 60_000 });
          process.stdout.write(r.output.split("\n").filter((l, i, a) => l || i < a.length - 1).map((l) => `${g.hostname}| ${l}\n`).join("") + (r.code ? `${g.hostname}| (exit ${r.code})\n` : ""));
        } catch (err) {
          say(`${g.hostname}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }),
    );
  });
  rl.on("close", () => {
    // stdin closed (e.g. run in the background): keep the guests running until a signal.
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`vm-fleet: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
