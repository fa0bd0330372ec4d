"use client";
import { useTheme } from "next-themes";
import { ChevronsUpDown, LogOut, Monitor, Moon, Sun } from "lucide-react";
import { apiFetch } from "../api";
import { DropdownMenu, DropdownMenuContent, DropdownMenuItem, DropdownMenuLabel, DropdownMenuRadioOptions, DropdownMenuSeparator, DropdownMenuTrigger } from "../ui/dropdown-menu";
import { useOperator } from "../hooks/operator-context";

const THEMES = [
  { value: "light", label: <><Sun /> Light</> },
  { value: "dark", label: <><Moon /> Dark</> },
  { value: "system", label: <><Monitor /> System</> },
];

export async function signOut() {
  try {
    await apiFetch("/auth/logout", { method: "POST" });
  } finally {
    window.location.assign("/login");
  }
}

export function UserMenu() {
  const op = useOperator();
  const { theme, setTheme } = useTheme();
  return (
    <DropdownMenu>
      <DropdownMenuTrigger
        className="flex w-full items-center gap-2.5 rounded-md px-2 py-1.5 text-left hover:bg-muted focus-visible:outline-offset-[-2px] data-[state=open]:bg-muted"
        aria-label={`Account: ${op.username}`}
      >
        <span className="flex size-7 shrink-0 items-center justify-center rounded-full bg-accent text-xs font-semibold uppercase text-accent-foreground">
          {op.username.slice(0, 2)}
        </span>
        <span className="min-w-0 flex-1">
          <span className="block truncate text-[13px] font-medium">{op.username}</span>
          <span className="block text-[11px] capitalize text-muted-foreground">{op.role}</span>
        </span>
        <ChevronsUpDown className="size-3.5 text-subtle-foreground" />
      </DropdownMenuTrigger>
      <DropdownMenuContent align="start" className="w-52">
        <DropdownMenuLabel>Theme</DropdownMenuLabel>
        <DropdownMenuRadioOptions value={theme ?? "system"} onValueChange={setTheme} options={THEMES} />
        <DropdownMenuSeparator />
        <DropdownMenuItem onSelect={() => void signOut()}>
          <LogOut /> Sign out
        </DropdownMenuItem>
      </DropdownMenuContent>
    </DropdownMenu>
  );
}
