import type { Metadata } from "next";
import { HostDetail } from "@/components/hosts/host-detail";

export const metadata: Metadata = { title: "Host" };

export default async function HostPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <HostDetail id={id} />;
}
