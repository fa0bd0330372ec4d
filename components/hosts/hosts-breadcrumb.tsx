import Link from "next/link";
import { ChevronRight } from "lucide-react";

/** "Hosts › <current>" above a page under /hosts. */
export function HostsBreadcrumb({ current }: { current: string }) {
  return (
    <nav aria-label="Breadcrumb" className="flex items-center gap-1">
      <Link href="/hosts" className="hover:text-foreground hover:underline">
        Hosts
      </Link>
      <ChevronRight className="size-3" />
      <span className="text-foreground">{current}</span>
    </nav>
  );
}
