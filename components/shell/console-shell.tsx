"use client";
import * as React from "react";
import { OperatorProvider, type SessionOperator } from "../hooks/operator-context";
import { RealtimeProvider } from "../hooks/realtime-provider";
import { Sidebar } from "./sidebar";
import { Topbar } from "./topbar";

export function ConsoleShell({ operator, children }: { operator: SessionOperator; children: React.ReactNode }) {
  return (
    <OperatorProvider operator={operator}>
      <RealtimeProvider>
        <a
          href="#main"
          className="sr-only focus:not-sr-only focus:fixed focus:left-3 focus:top-3 focus:z-50 focus:rounded-md focus:bg-card focus:px-3 focus:py-2 focus:shadow-lg"
        >
          Skip to content
        </a>
        <div className="flex min-h-screen">
          <Sidebar />
          <div className="flex min-w-0 flex-1 flex-col">
            <Topbar />
            <main id="main" className="min-w-0 flex-1 px-6 pb-10 pt-5">
              {children}
            </main>
          </div>
        </div>
      </RealtimeProvider>
    </OperatorProvider>
  );
}
