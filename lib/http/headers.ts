/** server.ts sets this from the socket (and strips any value a client sent). */
export const CLIENT_IP_HEADER = "x-splicer-client-ip";

/**
 * The client's address from a socket.io handshake: the first X-Forwarded-For hop when the console
 * sits behind a proxy it trusts (SPLICER_TRUST_PROXY), else the socket's own peer.
 */
export function handshakeIp(handshake: { headers: Record<string, string | string[] | undefined>; address?: string }, trustProxy: boolean): string | null {
  const fwd = trustProxy ? handshake.headers["x-forwarded-for"] : undefined;
  const ip = (typeof fwd === "string" ? fwd.split(",")[0].trim() : null) ?? handshake.address;
  return ip?.replace(/^::ffff:/, "") || null;
}
