import type { Metadata } from "next";
import { PatchesView } from "@/components/patches/patches-view";

export const metadata: Metadata = { title: "Patches" };

export default function PatchesPage() {
  return <PatchesView />;
}
