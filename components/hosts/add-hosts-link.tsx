"use client";
import Link from "next/link";
import { Plus } from "lucide-react";
import { useOperator } from "../hooks/operator-context";
import { buttonClass } from "../ui/button";

/** The link to the page that enrolls hosts, for admins only (they alone hold enrollment tokens); null for anyone else. */
export function useAddHostsLink(label = "Add hosts") {
  const op = useOperator();
  return op.isAdmin ? (
    <Link href="/hosts/add" className={buttonClass("primary")}>
      <Plus /> {label}
    </Link>
  ) : null;
}
