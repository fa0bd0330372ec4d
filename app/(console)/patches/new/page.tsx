import type { Metadata } from "next";
import { StagePatchForm } from "@/components/patches/stage-patch-form";

export const metadata: Metadata = { title: "Stage a patch" };

export default function StagePatchPage() {
  return <StagePatchForm />;
}
