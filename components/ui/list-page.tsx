import * as React from "react";
import { PageHeader } from "./page-header";
import { Card } from "./card";
import { QueryTable, type DataTableProps, type TableQuery } from "./data-table";

/**
 * A page listing one kind of thing from one query. `create` (null when the operator may not
 * create) sits in the header only once the list has rows: before that, the table's empty state
 * offers it, so it is never shown twice. A failed load replaces the rows.
 */
export function ListPage<T>({
  title,
  description,
  create,
  query,
  errorTitle,
  ...table
}: Omit<DataTableProps<T>, "data" | "loading"> & {
  title: string;
  description: React.ReactNode;
  create: React.ReactNode;
  query: TableQuery & { isLoading: boolean };
  errorTitle: string;
}) {
  const rows = (query.data as { items: T[] } | undefined)?.items ?? [];
  return (
    <>
      <PageHeader title={title} description={description} actions={rows.length > 0 ? create : null} />
      <Card className="overflow-hidden">
        <QueryTable query={query} errorTitle={errorTitle} errorHidesRows fixed loading={query.isLoading} {...table} />
      </Card>
    </>
  );
}
