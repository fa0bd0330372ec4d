import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FINAL_JOB_PHASES, JOB_PHASES } from "@/agent/protocol";
import {
  DONE_HOST_STATES,
  FAILED_HOST_STATES,
  FINAL_HOST_STATES,
  HOST,
  HOST_STATE_BAR_ORDER,
  HOST_STATE_READ_ORDER,
  IN_FLIGHT_HOST_STATES,
  IN_FLIGHT_RANK,
  isHostState,
  MAY_BE_LIVE_HOST_STATES,
  OPEN_HOST_STATES,
  PHASE,
  PHASE_RANK,
  ROLLOUT_HOST_STATES,
  stateOfPhase,
  WAITING_HOST_STATES,
} from "@/lib/rollouts/states";
import { ROOT } from "../../../helpers/console";

// The states module against what it mirrors: the database enum as schema.prisma declares it
// (not the generated client it is built from) and the agent protocol's job phases.
const schemaEnum = (name: string): string[] => {
  const schema = fs.readFileSync(path.join(ROOT, "prisma/schema.prisma"), "utf8");
  const block = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(schema)?.[1] ?? "";
  return block.split("\n").map((l) => l.replace(/\/\/.*/, "").trim()).filter(Boolean);
};
const sorted = (xs: readonly string[]) => [...xs].sort();

describe("rollout host states", () => {
  it("are the database enum's, in its order", () => {
    expect(ROLLOUT_HOST_STATES).toEqual(schemaEnum("RolloutHostState"));
    for (const s of ROLLOUT_HOST_STATES) expect(HOST[s]).toBe(s);
  });

  it("are each waiting, in flight or final, exactly one of them", () => {
    expect(sorted([...WAITING_HOST_STATES, ...IN_FLIGHT_HOST_STATES, ...FINAL_HOST_STATES])).toEqual(sorted(ROLLOUT_HOST_STATES));
    expect(sorted(OPEN_HOST_STATES)).toEqual(sorted([...WAITING_HOST_STATES, ...IN_FLIGHT_HOST_STATES]));
  });

  it.each([
    ["failed (what the budget counts)", FAILED_HOST_STATES, ["failed", "unreachable"]],
    ["done", DONE_HOST_STATES, ["reverted", "succeeded"]],
    ["maybe live", MAY_BE_LIVE_HOST_STATES, ["applying", "dispatched", "downloading", "succeeded", "verifying"]],
  ] as const)("names the %s set", (_what, set, want) => {
    expect(sorted(set)).toEqual(want);
  });

  it("reads failures first, then in flight furthest along first, then waiting, then finished", () => {
    expect(HOST_STATE_READ_ORDER).toEqual(["failed", "unreachable", "verifying", "applying", "downloading", "dispatched", "waiting_for_build", "pending", "succeeded", "reverted", "skipped"]);
    expect(HOST_STATE_BAR_ORDER).toEqual(["succeeded", "reverted", "failed", "unreachable", "verifying", "applying", "downloading", "dispatched", "waiting_for_build", "skipped", "pending"]);
  });

  it("orders every state once for reading and for bars, problems first when reading", () => {
    expect(sorted(HOST_STATE_READ_ORDER)).toEqual(sorted(ROLLOUT_HOST_STATES));
    expect(sorted(HOST_STATE_BAR_ORDER)).toEqual(sorted(ROLLOUT_HOST_STATES));
    expect(HOST_STATE_READ_ORDER.slice(0, 2)).toEqual(FAILED_HOST_STATES);
    expect(HOST_STATE_BAR_ORDER.slice(0, 2)).toEqual(DONE_HOST_STATES);
  });

  it("tells a stored string that names a state", () => {
    expect(isHostState("waiting_for_build")).toBe(true);
    expect(isHostState("built")).toBe(false);
  });
});

describe("job phases", () => {
  it("are the protocol's", () => {
    expect(Object.keys(PHASE)).toEqual([...JOB_PHASES]);
    expect(Object.keys(PHASE_RANK).sort()).toEqual(sorted(JOB_PHASES));
  });

  it("rank the final phases above every other and equal to each other", () => {
    const top = Math.max(...Object.values(PHASE_RANK));
    for (const p of JOB_PHASES) expect(PHASE_RANK[p] === top).toBe(FINAL_JOB_PHASES.includes(p));
  });

  it.each([
    ["accepted", "apply", null],
    ["downloading", "apply", "downloading"],
    ["applying", "rollback", "applying"],
    ["verifying", "apply", "verifying"],
    ["succeeded", "apply", "succeeded"],
    ["succeeded", "rollback", "reverted"],
    ["failed", "rollback", "failed"],
  ] as const)("%s moves an %s's host to %s", (phase, kind, state) => {
    expect(stateOfPhase(phase, kind)).toBe(state);
  });

  it("rank an in-flight state as the phase that put the host there (dispatched: as accepted)", () => {
    expect(Object.keys(IN_FLIGHT_RANK).sort()).toEqual(sorted(IN_FLIGHT_HOST_STATES));
    expect(IN_FLIGHT_RANK.dispatched).toBe(PHASE_RANK.accepted);
    for (const p of JOB_PHASES) {
      const s = stateOfPhase(p, "apply");
      if (s && s in IN_FLIGHT_RANK) expect(IN_FLIGHT_RANK[s as keyof typeof IN_FLIGHT_RANK]).toBe(PHASE_RANK[p]);
    }
  });
});

// The Done-means of one definition per state: a host state's name (several are also build
// statuses, outcomes and job phases, which have their own named constants) is not spelled as a
// string in the product's code. Comments and the lines marked "text, not a state" (words in a
// sentence or label shown to a person) are not code that decides anything.
describe("host state names in the code", () => {
  const DEFINED_IN = new Set(["lib/rollouts/states.ts", "agent/protocol/index.ts"]);
  const names = ROLLOUT_HOST_STATES.join("|");
  const literal = new RegExp(`(["'\`])(${names})\\1`);
  const files = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) return ["generated", "dist", "node_modules"].includes(e.name) ? [] : files(rel);
      return /\.tsx?$/.test(e.name) ? [rel] : [];
    });

  it("appear as string literals only where they are defined", () => {
    const found: string[] = [];
    const sources = ["app", "components", "lib", "agent", "scripts"].flatMap(files).concat(["server.ts", "proxy.ts"]);
    expect(sources.length).toBeGreaterThan(200);
    for (const file of sources) {
      if (DEFINED_IN.has(file)) continue;
      fs.readFileSync(path.join(ROOT, file), "utf8").split("\n").forEach((line, i) => {
        const code = line.trim();
        if (code.startsWith("//") || code.startsWith("*") || code.startsWith("/*") || code.includes("text, not a state")) return;
        if (literal.test(code.replace(/\/\/.*$/, ""))) found.push(`${file}:${i + 1}: ${code}`);
      });
    }
    expect(found).toEqual([]);
  });

  it("the scan finds a spelled state (it can fail)", () => {
    expect(literal.test(`if (row.state === "unreachable") return;`)).toBe(true);
    expect(literal.test(`if (row.state === HOST.unreachable) return;`)).toBe(false);
  });
});
