import { Button } from "./button";
import { cn } from "./cn";

/** Cancel + submit at the foot of a form in a dialog. */
export function FormActions({
  onCancel,
  submitLabel,
  pending,
  className,
}: {
  onCancel: () => void;
  submitLabel: string;
  pending: boolean;
  className?: string;
}) {
  return (
    <div className={cn("flex justify-end gap-2", className)}>
      <Button variant="ghost" onClick={onCancel}>
        Cancel
      </Button>
      <Button type="submit" variant="primary" loading={pending}>
        {submitLabel}
      </Button>
    </div>
  );
}
