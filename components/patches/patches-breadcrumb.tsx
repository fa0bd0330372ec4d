import Link from "next/link";
import { ChevronRight } from "lucide-react";

/** "Patches › <current>" above a page under /patches. */
export function PatchesBreadcrumb({ current }: { current: string }) {
  return (
    <nav aria-label="Breadcrumb" className="flex min-w-0 items-center gap-1">
      <Link href="/patches" className="hover:text-foreground hover:underline">
        Patches
      </Link>
      <ChevronRight className="size-3 shrink-0" />
      <span className="truncate text-foreground">{current}</span>
    </nav>
  );
}
