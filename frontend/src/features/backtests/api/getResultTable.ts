import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";
import type { paths } from "../../../client/schema";

type TableOperation = paths["/api/v1/backtests/{job_id}/tables/{table}"]["get"];
export type ResultTable = TableOperation["parameters"]["path"]["table"];

export interface TableQuery {
  market?: string;
  sort_by?: string;
  descending?: boolean;
  limit: number;
  offset: number;
}

/** One page of a result table, filtered by market and sorted by the server. */
export function getResultTable(jobId: string, table: ResultTable, query: TableQuery) {
  return unwrap(
    api.GET("/api/v1/backtests/{job_id}/tables/{table}", {
      params: { path: { job_id: jobId, table }, query },
    }),
  );
}

export const resultTableQuery = (jobId: string, table: ResultTable, query: TableQuery) =>
  queryOptions({
    queryKey: ["backtests", "table", jobId, table, query],
    queryFn: () => getResultTable(jobId, table, query),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });

/** The whole table as CSV (GET /tables/{table}.csv); the session cookie authorises the download. */
export function resultTableCsvUrl(jobId: string, table: ResultTable): string {
  return `/api/v1/backtests/${encodeURIComponent(jobId)}/tables/${table}.csv`;
}
