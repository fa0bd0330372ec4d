import type { Metadata } from "next";
import { FleetOverview } from "@/components/fleet/fleet-overview";

export const metadata: Metadata = { title: "Fleet" };

export default function FleetPage() {
  return <FleetOverview />;
}
