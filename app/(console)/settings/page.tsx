import type { Metadata } from "next";
import { SettingsView } from "@/components/settings/settings-view";

export const metadata: Metadata = { title: "Settings" };

export default function SettingsPage() {
  // Rendered per request (the console layout is dynamic), so URL state is there on the server too.
  return <SettingsView />;
}
