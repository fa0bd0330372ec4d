// Raw socket.io clients against a test console: the /agent namespace as a hand-driven (or
// hostile) agent speaks it, and the /ui namespace as a browser does. No automatic reconnection,
// so a test sees every refusal and drop itself.
import { io as ioClient, type ManagerOptions, type Socket, type SocketOptions } from "socket.io-client";
import { afterAll } from "vitest";
import { PROTOCOL_VERSION } from "@/agent/protocol";

/** The handshake auth a real agent sends with its credential. */
export const agentAuth = (cred: { hostId: string; credential: string }) => ({ hostId: cred.hostId, credential: cred.credential, protocol: PROTOCOL_VERSION });

/** Resolves with the socket once connected; rejects with the console's refusal. */
export function connected(s: Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    s.once("connect", () => resolve(s));
    s.once("connect_error", reject);
  });
}

/** "connected", or the message the console refused the connection with. */
export function connectOutcome(s: Socket): Promise<string> {
  return new Promise((resolve) => {
    s.once("connect", () => resolve("connected"));
    s.once("connect_error", (e) => resolve(e.message));
  });
}

/**
 * Opens /agent sockets on the console at `url()` (read when opening: tests start their console
 * in beforeAll) and closes them all after the file's tests, including what a failing test left open.
 */
export function agentSockets(url: () => string) {
  const opened: Socket[] = [];
  afterAll(() => {
    for (const s of opened.splice(0)) s.close();
  });
  const open = (auth: Record<string, unknown>, options: Partial<ManagerOptions & SocketOptions> = {}): Socket => {
    const s = ioClient(`${url()}/agent`, { transports: ["websocket"], reconnection: false, forceNew: true, auth, ...options });
    opened.push(s);
    return s;
  };
  return {
    /** A socket on its way to connecting, for tests that listen before the handshake ends (`options`: e.g. reconnecting). */
    open,
    connect: (auth: Record<string, unknown>) => connected(open(auth)),
    outcome: (auth: Record<string, unknown>) => connectOutcome(open(auth)),
  };
}

/** A browser's /ui socket with these request headers (a session cookie, an origin), not yet connected. */
export const openUiSocket = (url: string, headers: Record<string, string> = {}): Socket =>
  ioClient(`${url}/ui`, { transports: ["websocket"], extraHeaders: headers, reconnection: false });
