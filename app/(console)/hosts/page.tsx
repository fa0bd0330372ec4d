import type { Metadata } from "next";
import { HostsView } from "@/components/hosts/hosts-view";

export const metadata: Metadata = { title: "Hosts" };

export default function HostsPage() {
  // Rendered per request (the console layout is dynamic), so URL state is there on the server too.
  return <HostsView />;
}
