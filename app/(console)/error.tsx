"use client";
import { ErrorState } from "@/components/ui/error-state";
import { Card } from "@/components/ui/card";

export default function ConsoleError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <Card className="mt-4">
      <ErrorState error={error} title="This page hit an error" onRetry={reset} />
    </Card>
  );
}
