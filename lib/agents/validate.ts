import "server-only";
import type { Socket } from "socket.io";
import { z } from "zod";
import { MAX_MESSAGE_BYTES, type Ack } from "@/agent/protocol";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";

/** The events an agent may send (agent/protocol's schemas): the only values of the metrics' `event` label. */
export const AGENT_EVENTS = ["inventory", "heartbeat", "job_update"] as const;
export type AgentEvent = (typeof AGENT_EVENTS)[number];
const KNOWN_EVENTS: ReadonlySet<string> = new Set(AGENT_EVENTS);

/** The sender names the event: anything outside the protocol counts as "unknown", or /metrics grows without bound. */
export function eventLabel(event: string): string {
  return KNOWN_EVENTS.has(event) ? event : "unknown";
}

// An agent that keeps sending what it must not is misbehaving or hostile: after this many
// refusals in a minute its connection is closed (it may reconnect and try again, slowly).
const MAX_STRIKES_PER_MINUTE = 5;

/** Thrown by a handler to refuse a valid-looking message (e.g. sent too often). */
export class RefusedMessage extends Error {}

/** Refuses a message: tells the agent why, and drops the connection after repeated refusals. */
export function refuse(socket: Socket, event: string, error: string, ack?: (a: Ack) => void): void {
  metrics.agentMessages.inc({ event: eventLabel(event), result: "refused" });
  const now = Date.now();
  const strikes: number[] = ((socket.data.strikes as number[] | undefined) ?? []).filter((t) => now - t < 60_000);
  strikes.push(now);
  socket.data.strikes = strikes;
  log.warn({ hostId: socket.data.hostId, event, error, strikes: strikes.length }, "agent message refused");
  socket.emit("protocol_error", { event, error });
  ack?.({ ok: false, error });
  if (strikes.length > MAX_STRIKES_PER_MINUTE) {
    log.warn({ hostId: socket.data.hostId }, "too many bad messages; dropping agent connection");
    socket.disconnect(true);
  }
}

/**
 * Registers a handler that only ever sees data its zod schema accepts. Oversized or malformed
 * messages are refused with the reason; a handler's own failure is logged and acked as an error,
 * never thrown into socket.io (which would crash the process).
 */
export function onValidated<S extends z.ZodType>(
  socket: Socket,
  event: AgentEvent,
  schema: S,
  handler: (data: z.infer<S>) => Promise<void>,
): void {
  socket.on(event, async (data: unknown, ack?: unknown) => {
    const reply = typeof ack === "function" ? (ack as (a: Ack) => void) : undefined;
    let size: number;
    try {
      size = Buffer.byteLength(JSON.stringify(data) ?? "");
    } catch {
      return refuse(socket, event, "message is not JSON", reply);
    }
    if (size > MAX_MESSAGE_BYTES) return refuse(socket, event, `message too large: ${size} bytes (limit ${MAX_MESSAGE_BYTES})`, reply);
    const parsed = schema.safeParse(data);
    if (!parsed.success) return refuse(socket, event, `invalid ${event}: ${z.prettifyError(parsed.error)}`, reply);
    try {
      await handler(parsed.data);
      metrics.agentMessages.inc({ event: eventLabel(event), result: "ok" });
      reply?.({ ok: true });
    } catch (err) {
      if (err instanceof RefusedMessage) return refuse(socket, event, err.message, reply);
      metrics.agentMessages.inc({ event: eventLabel(event), result: "error" });
      log.error({ err, hostId: socket.data.hostId, event }, "agent message handler failed");
      reply?.({ ok: false, error: "the console could not store this message now; send it again later", retry: true });
    }
  });
}
