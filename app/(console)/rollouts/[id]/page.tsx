import type { Metadata } from "next";
import { RolloutDetail } from "@/components/rollouts/rollout-detail";

export const metadata: Metadata = { title: "Rollout" };

export default async function RolloutPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <RolloutDetail id={id} />;
}
