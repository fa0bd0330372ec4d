"use client";
import * as React from "react";
import {
  flexRender,
  getCoreRowModel,
  useReactTable,
  type ColumnDef,
  type OnChangeFn,
  type Row,
  type RowData,
  type SortingState,
} from "@tanstack/react-table";
import { ArrowDown, ArrowUp, ChevronsUpDown } from "lucide-react";
import { cn } from "./cn";
import { Skeleton } from "./skeleton";
import { ErrorState } from "./error-state";

declare module "@tanstack/react-table" {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  interface ColumnMeta<TData extends RowData, TValue> {
    /** Applied to both th and td. */
    className?: string;
    headerClassName?: string;
    align?: "left" | "right";
  }
}

export type DataTableProps<T> = {
  columns: ColumnDef<T, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  data: T[];
  sorting?: SortingState;
  onSortingChange?: OnChangeFn<SortingState>;
  loading?: boolean;
  empty?: React.ReactNode;
  getRowId?: (row: T) => string;
  onRowClick?: (row: Row<T>, e: React.MouseEvent) => void;
  rowClassName?: (row: Row<T>) => string | undefined;
  className?: string;
  skeletonRows?: number;
  caption?: string;
  /** Background refetch in progress: dims the rows slightly, keeps them readable. */
  fetching?: boolean;
  /** Extra full-width row under a row (e.g. details), or null. */
  renderExpanded?: (row: Row<T>) => React.ReactNode;
  /** table-layout: fixed: columns take their `size`; a column with `size: 0` takes the rest. */
  fixed?: boolean;
};

/**
 * Dense table with a sticky header. Sorting is server-side (manualSorting) when
 * `sorting`/`onSortingChange` are given; pagination is left to the caller.
 */
export function DataTable<T>({
  columns,
  data,
  sorting,
  onSortingChange,
  loading,
  empty,
  getRowId,
  onRowClick,
  rowClassName,
  className,
  skeletonRows = 8,
  caption,
  fetching,
  renderExpanded,
  fixed,
}: DataTableProps<T>) {
  const table = useReactTable({
    data,
    columns,
    getCoreRowModel: getCoreRowModel(),
    manualSorting: true,
    manualPagination: true,
    enableSortingRemoval: false,
    state: sorting ? { sorting } : {},
    onSortingChange,
    getRowId: getRowId ? (r) => getRowId(r) : undefined,
  });
  const rows = table.getRowModel().rows;
  const colCount = table.getVisibleLeafColumns().length;

  return (
    <div className={cn("scrollbar-thin relative overflow-auto", className)}>
      <table className={cn("w-full border-separate border-spacing-0 text-[13px]", fixed && "table-fixed")}>
        {caption ? <caption className="sr-only">{caption}</caption> : null}
        <thead>
          {table.getHeaderGroups().map((hg) => (
            <tr key={hg.id}>
              {hg.headers.map((header) => {
                const meta = header.column.columnDef.meta;
                const canSort = header.column.getCanSort() && !!onSortingChange;
                const sorted = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    aria-sort={sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined}
                    style={header.column.columnDef.size !== undefined && header.column.columnDef.size > 0 ? { width: header.getSize() } : undefined}
                    className={cn(
                      "sticky top-0 z-10 h-8 whitespace-nowrap border-b border-border bg-muted/85 px-3 text-left text-[11px] font-medium uppercase tracking-wide text-muted-foreground backdrop-blur supports-[backdrop-filter]:bg-muted/75",
                      meta?.align === "right" && "text-right",
                      meta?.className,
                      meta?.headerClassName,
                    )}
                  >
                    {header.isPlaceholder ? null : canSort ? (
                      <button
                        type="button"
                        onClick={header.column.getToggleSortingHandler()}
                        className={cn(
                          "-mx-1 inline-flex items-center gap-1 rounded px-1 py-0.5 uppercase hover:text-foreground",
                          sorted && "text-foreground",
                          meta?.align === "right" && "flex-row-reverse",
                        )}
                      >
                        {flexRender(header.column.columnDef.header, header.getContext())}
                        {sorted === "asc" ? (
                          <ArrowUp className="size-3" />
                        ) : sorted === "desc" ? (
                          <ArrowDown className="size-3" />
                        ) : (
                          <ChevronsUpDown className="size-3 opacity-40" />
                        )}
                      </button>
                    ) : (
                      flexRender(header.column.columnDef.header, header.getContext())
                    )}
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody className={cn("transition-opacity", fetching && "opacity-70")}>
          {loading && rows.length === 0 ? (
            Array.from({ length: skeletonRows }, (_, i) => (
              <tr key={`s${i}`}>
                {Array.from({ length: colCount }, (_, j) => (
                  <td key={j} className="h-9 border-b border-border px-3">
                    <Skeleton className={cn("h-3", j === 0 ? "w-32" : "w-20")} />
                  </td>
                ))}
              </tr>
            ))
          ) : rows.length === 0 ? (
            <tr>
              <td colSpan={colCount} className="border-b border-border">
                {empty}
              </td>
            </tr>
          ) : (
            rows.map((row) => {
              const expanded = renderExpanded?.(row);
              return (
              <React.Fragment key={row.id}>
              <tr
                aria-expanded={renderExpanded ? !!expanded : undefined}
                onClick={
                  onRowClick
                    ? (e) => {
                        // Let links, buttons and text selection inside the row behave normally.
                        const target = e.target as HTMLElement;
                        if (target.closest("a,button,input,select,textarea,[role=button]")) return;
                        if (window.getSelection()?.toString()) return;
                        onRowClick(row, e);
                      }
                    : undefined
                }
                className={cn(
                  "group transition-colors hover:bg-muted/60",
                  onRowClick && "cursor-pointer",
                  rowClassName?.(row),
                )}
              >
                {row.getVisibleCells().map((cell) => {
                  const meta = cell.column.columnDef.meta;
                  return (
                    <td
                      key={cell.id}
                      className={cn(
                        "h-9 whitespace-nowrap border-b border-border px-3 align-middle",
                        meta?.align === "right" && "text-right",
                        meta?.className,
                      )}
                    >
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  );
                })}
              </tr>
              {expanded ? (
                <tr>
                  <td colSpan={colCount} className="border-b border-border bg-muted/40 px-3 py-3">
                    {expanded}
                  </td>
                </tr>
              ) : null}
              </React.Fragment>
              );
            })
          )}
        </tbody>
      </table>
    </div>
  );
}

/** What QueryTable needs of a TanStack query result. */
export type TableQuery = { isError: boolean; isPending: boolean; error: unknown; data?: unknown; refetch: () => unknown };

/**
 * A DataTable of one query's rows, or, when the query failed, the error with a retry in its place.
 * Rows already shown stay after a failed refetch unless `errorHidesRows`.
 * By default the rows are the query's `items`, keyed by their `id`, with skeletons while the query is pending.
 */
export function QueryTable<T>({
  query,
  errorTitle,
  errorCompact,
  errorClassName,
  errorHidesRows,
  data,
  loading,
  getRowId = (row) => (row as { id: string }).id,
  ...table
}: Omit<DataTableProps<T>, "data"> & {
  query: TableQuery;
  data?: T[];
  errorTitle: string;
  errorCompact?: boolean;
  errorClassName?: string;
  errorHidesRows?: boolean;
}) {
  if (query.isError && (errorHidesRows || query.data === undefined)) {
    return <ErrorState compact={errorCompact} className={errorClassName} error={query.error} title={errorTitle} onRetry={() => void query.refetch()} />;
  }
  const rows = data ?? (query.data as { items: T[] } | undefined)?.items ?? [];
  return <DataTable data={rows} loading={loading ?? query.isPending} getRowId={getRowId} {...table} />;
}
