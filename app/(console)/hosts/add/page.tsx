import type { Metadata } from "next";
import { AddHosts } from "@/components/hosts/add-hosts";

export const metadata: Metadata = { title: "Add hosts" };

export default function AddHostsPage() {
  return <AddHosts />;
}
