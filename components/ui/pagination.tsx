"use client";
import { ChevronLeft, ChevronRight, ChevronsLeft, ChevronsRight } from "lucide-react";
import { Button } from "./button";
import { Select } from "./select";
import { numberFmt } from "./time";

export function Pagination({
  page,
  pageSize,
  total,
  pageSizes,
  onPage,
  onPageSize,
  noun = "hosts",
}: {
  page: number;
  pageSize: number;
  total: number | undefined;
  pageSizes: number[];
  onPage: (p: number) => void;
  onPageSize: (n: number) => void;
  /** What is counted, plural: "hosts", "rollouts". */
  noun?: string;
}) {
  const pages = total !== undefined ? Math.max(1, Math.ceil(total / pageSize)) : 1;
  const from = total ? (page - 1) * pageSize + 1 : 0;
  const to = total ? Math.min(total, page * pageSize) : 0;
  return (
    <div className="flex flex-wrap items-center justify-between gap-3 border-t border-border px-4 py-2 text-xs text-muted-foreground">
      <div className="tabular" data-testid="hosts-range" aria-live="polite">
        {total === undefined ? (
          "Loading…"
        ) : total === 0 ? (
          `No ${noun}`
        ) : (
          <>
            <span className="font-medium text-foreground">
              {numberFmt.format(from)}–{numberFmt.format(to)}
            </span>{" "}
            of <span className="font-medium text-foreground">{numberFmt.format(total)}</span> {noun}
          </>
        )}
      </div>
      <div className="flex items-center gap-3">
        <div className="flex items-center gap-2">
          <span>Rows</span>
          <Select
            ariaLabel="Rows per page"
            value={String(pageSize)}
            onValueChange={(v) => onPageSize(Number(v))}
            options={pageSizes.map((n) => ({ value: String(n), label: String(n) }))}
            className="h-7 w-[4.5rem] text-xs"
          />
        </div>
        <span className="tabular">
          Page {numberFmt.format(Math.min(page, pages))} of {numberFmt.format(pages)}
        </span>
        <div className="flex items-center gap-1">
          <Button size="icon-sm" variant="outline" aria-label="First page" disabled={page <= 1} onClick={() => onPage(1)}>
            <ChevronsLeft />
          </Button>
          <Button size="icon-sm" variant="outline" aria-label="Previous page" disabled={page <= 1} onClick={() => onPage(page - 1)}>
            <ChevronLeft />
          </Button>
          <Button size="icon-sm" variant="outline" aria-label="Next page" disabled={page >= pages} onClick={() => onPage(page + 1)}>
            <ChevronRight />
          </Button>
          <Button size="icon-sm" variant="outline" aria-label="Last page" disabled={page >= pages} onClick={() => onPage(pages)}>
            <ChevronsRight />
          </Button>
        </div>
      </div>
    </div>
  );
}
