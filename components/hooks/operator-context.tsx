"use client";
import * as React from "react";
import type { Role } from "@/lib/api/schemas";

export interface SessionOperator {
  id: string;
  username: string;
  role: Role;
}

const OperatorContext = React.createContext<SessionOperator | null>(null);

export function OperatorProvider({ operator, children }: { operator: SessionOperator; children: React.ReactNode }) {
  return <OperatorContext.Provider value={operator}>{children}</OperatorContext.Provider>;
}

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** The signed-in operator. The UI hides what a role cannot do; the API enforces it anyway. */
export function useOperator() {
  const op = React.useContext(OperatorContext);
  if (!op) throw new Error("useOperator outside OperatorProvider");
  return {
    ...op,
    can: (role: Role) => rank[op.role] >= rank[role],
    isAdmin: op.role === "admin",
  };
}
