import { Boxes, FileDiff, LayoutDashboard, Rocket, ScrollText, Server, Settings, ShieldAlert, type LucideIcon } from "lucide-react";

export interface NavItem {
  href: string;
  label: string;
  icon: LucideIcon;
  /** Not built yet: shown, so the shape of the product is visible, but not clickable. */
  soon?: boolean;
  section: "fleet" | "patching" | "admin";
}

export const NAV: NavItem[] = [
  { href: "/fleet", label: "Fleet", icon: LayoutDashboard, section: "fleet" },
  { href: "/hosts", label: "Hosts", icon: Server, section: "fleet" },
  { href: "/groups", label: "Groups", icon: Boxes, section: "fleet" },
  { href: "/exposure", label: "Exposure", icon: ShieldAlert, section: "fleet" },
  { href: "/patches", label: "Patches", icon: FileDiff, section: "patching" },
  { href: "/rollouts", label: "Rollouts", icon: Rocket, section: "patching" },
  { href: "/audit", label: "Audit log", icon: ScrollText, section: "admin" },
  { href: "/settings", label: "Settings", icon: Settings, section: "admin" },
];

export const SECTION_LABEL: Record<NavItem["section"], string> = {
  fleet: "Fleet",
  patching: "Patching",
  admin: "Administration",
};
