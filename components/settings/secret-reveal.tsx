import { AlertTriangle } from "lucide-react";
import { CopyButton } from "../ui/copy-button";

/** A freshly created secret: shown once, with a copy button and a clear warning. */
export function SecretReveal({ secret, testId }: { secret: string; testId?: string }) {
  return (
    <div className="rounded-md border border-warn/30 bg-warn-soft/60 p-3">
      <p className="flex items-center gap-1.5 text-xs font-medium text-warn">
        <AlertTriangle className="size-3.5" /> Copy it now: it will not be shown again.
      </p>
      <div className="mt-2 flex items-center gap-2">
        <code data-testid={testId} className="min-w-0 flex-1 break-all rounded border border-border bg-card px-2 py-1.5 font-mono text-xs">
          {secret}
        </code>
        <CopyButton text={secret} label="Copy" showLabel />
      </div>
    </div>
  );
}
