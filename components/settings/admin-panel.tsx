"use client";
import * as React from "react";
import { useOperator } from "../hooks/operator-context";
import { Card, CardHeader } from "../ui/card";
import { EmptyState } from "../ui/empty-state";

/** A settings card only administrators can use: others see why it is empty instead. */
export function AdminPanel({
  icon,
  title,
  description,
  actions,
  deniedTitle,
  denied,
  children,
}: {
  icon: React.ReactNode;
  title: string;
  description: string;
  actions: React.ReactNode;
  deniedTitle: string;
  denied: React.ReactNode;
  children: React.ReactNode;
}) {
  const me = useOperator();
  if (!me.isAdmin) {
    return (
      <Card>
        <EmptyState icon={icon} title={deniedTitle}>
          {denied}
        </EmptyState>
      </Card>
    );
  }
  return (
    <Card className="overflow-hidden">
      <CardHeader icon={icon} title={title} description={description} actions={actions} />
      {children}
    </Card>
  );
}
