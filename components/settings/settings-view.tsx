"use client";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { Activity, KeySquare, Users } from "lucide-react";
import { PageHeader } from "../ui/page-header";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "../ui/tabs";
import { FleetSettingsForm } from "./fleet-settings-form";
import { OperatorsPanel } from "./operators-panel";
import { ApiTokensPanel } from "./api-tokens-panel";

const TABS = ["general", "operators", "api-tokens"] as const;
type Tab = (typeof TABS)[number];

export function SettingsView() {
  const sp = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const raw = sp.get("tab");
  const tab: Tab = (TABS as readonly string[]).includes(raw ?? "") ? (raw as Tab) : "general";
  return (
    <>
      <PageHeader title="Settings" description="Fleet behaviour, the people who use this console, and tokens for automation." />
      <Tabs value={tab} onValueChange={(v) => router.replace(v === "general" ? pathname : `${pathname}?tab=${v}`, { scroll: false })}>
        <TabsList>
          <TabsTrigger value="general">
            <Activity /> Fleet
          </TabsTrigger>
          <TabsTrigger value="operators">
            <Users /> Operators
          </TabsTrigger>
          <TabsTrigger value="api-tokens">
            <KeySquare /> API tokens
          </TabsTrigger>
        </TabsList>
        <TabsContent value="general" className="focus-visible:outline-none">
          <FleetSettingsForm />
        </TabsContent>
        <TabsContent value="operators" className="focus-visible:outline-none">
          <OperatorsPanel />
        </TabsContent>
        <TabsContent value="api-tokens" className="focus-visible:outline-none">
          <ApiTokensPanel />
        </TabsContent>
      </Tabs>
    </>
  );
}
