import type { Metadata } from "next";
import { Suspense } from "react";
import { HostsView } from "@/components/hosts/hosts-view";

export const metadata: Metadata = { title: "Hosts" };

export default function HostsPage() {
  // HostsView reads its filters from the URL (useSearchParams).
  return (
    <Suspense>
      <HostsView />
    </Suspense>
  );
}
