import type { Metadata } from "next";
import { PatchDetail } from "@/components/patches/patch-detail";

export const metadata: Metadata = { title: "Patch" };

export default async function PatchPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <PatchDetail id={id} />;
}
