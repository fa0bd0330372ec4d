import type { Metadata } from "next";
import { RolloutsView } from "@/components/rollouts/rollouts-view";

export const metadata: Metadata = { title: "Rollouts" };

export default function RolloutsPage() {
  // Rendered per request (the console layout is dynamic), so URL state is there on the server too.
  return <RolloutsView />;
}
