"use client";
import { useTheme } from "next-themes";
import { Moon, Sun } from "lucide-react";
import { GlobalSearch } from "./global-search";
import { useRealtime } from "../hooks/realtime-provider";
import { StatusDot } from "../ui/badge";
import { Tooltip } from "../ui/tooltip";
import { Button } from "../ui/button";

function LiveIndicator() {
  const { status } = useRealtime();
  const text = status === "live" ? "Live" : status === "connecting" ? "Connecting" : "Reconnecting";
  const tip =
    status === "live"
      ? "Connected: pages update as hosts report in"
      : status === "connecting"
        ? "Connecting to live updates…"
        : "Live updates interrupted: retrying. Data may be out of date.";
  return (
    <Tooltip content={tip} side="bottom">
      <span
        tabIndex={0}
        data-testid="live-status"
        data-status={status}
        className="inline-flex h-7 items-center gap-1.5 rounded-full border border-border px-2.5 text-xs font-medium text-muted-foreground"
      >
        <StatusDot tone={status === "live" ? "ok" : status === "connecting" ? "off" : "warn"} pulse={status === "live"} />
        {text}
      </span>
    </Tooltip>
  );
}

function ThemeToggle() {
  const { resolvedTheme, setTheme } = useTheme();
  const dark = resolvedTheme === "dark";
  return (
    <Tooltip content={dark ? "Switch to light theme" : "Switch to dark theme"} side="bottom">
      <Button variant="ghost" size="icon" aria-label="Toggle theme" onClick={() => setTheme(dark ? "light" : "dark")}>
        <Sun className="hidden dark:block" />
        <Moon className="block dark:hidden" />
      </Button>
    </Tooltip>
  );
}

export function Topbar() {
  return (
    <div className="sticky top-0 z-30 flex h-12 shrink-0 items-center gap-4 border-b border-border bg-background/85 px-6 backdrop-blur supports-[backdrop-filter]:bg-background/70">
      <GlobalSearch />
      <div className="ml-auto flex items-center gap-2">
        <LiveIndicator />
        <ThemeToggle />
      </div>
    </div>
  );
}
