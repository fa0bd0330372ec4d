/** server.ts sets this from the socket (and strips any value a client sent). */
export const CLIENT_IP_HEADER = "x-splicer-client-ip";
