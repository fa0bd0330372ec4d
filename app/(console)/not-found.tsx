import Link from "next/link";
import { Compass } from "lucide-react";
import { EmptyState } from "@/components/ui/empty-state";
import { buttonClass } from "@/components/ui/button";

export default function ConsoleNotFound() {
  return (
    <EmptyState
      icon={<Compass />}
      title="Nothing here"
      action={
        <Link href="/fleet" className={buttonClass("primary")}>
          Go to the fleet overview
        </Link>
      }
    >
      This page does not exist, or it arrives in a later release.
    </EmptyState>
  );
}
