"use client";
import * as React from "react";
import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { ThemeProvider } from "next-themes";
import { z } from "zod";
import { ApiRequestError, isUnauthorized } from "./api";
import { TooltipProvider } from "./ui/tooltip";

// zod probes for eval (`Function("")`) before compiling fast parsers; the pages' CSP forbids eval,
// so the probe would be reported as a violation on every page. Its interpreter is fast enough here.
z.config({ jitless: true });

function goToLogin() {
  if (typeof window === "undefined" || window.location.pathname.startsWith("/login")) return;
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

function makeClient() {
  return new QueryClient({
    queryCache: new QueryCache({ onError: (e) => isUnauthorized(e) && goToLogin() }),
    mutationCache: new MutationCache({ onError: (e) => isUnauthorized(e) && goToLogin() }),
    defaultOptions: {
      queries: {
        // Live updates arrive over socket.io; this is only the floor for focus/mount refetches.
        staleTime: 10_000,
        refetchOnWindowFocus: true,
        retry: (count, e) => {
          if (e instanceof ApiRequestError && e.status >= 400 && e.status < 500) return false;
          return count < 2;
        },
      },
    },
  });
}

export function Providers({ children, nonce }: { children: React.ReactNode; nonce?: string }) {
  const [client] = React.useState(makeClient);
  return (
    <ThemeProvider nonce={nonce} attribute="class" defaultTheme="system" enableSystem disableTransitionOnChange>
      <QueryClientProvider client={client}>
        <TooltipProvider delayDuration={300} skipDelayDuration={150}>
          {children}
        </TooltipProvider>
      </QueryClientProvider>
    </ThemeProvider>
  );
}
