import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export interface RankedQuery {
  sort_by?: string;
  descending?: boolean;
  limit: number;
  offset: number;
}

/** The sweep's trials ranked by its objective (or sorted by any column). */
export function getSweepRanked(jobId: string, query: RankedQuery) {
  return unwrap(api.GET("/api/v1/sweeps/{job_id}/ranked", { params: { path: { job_id: jobId }, query } }));
}

export const sweepRankedQuery = (jobId: string, query: RankedQuery) =>
  queryOptions({
    queryKey: ["sweeps", "ranked", jobId, query],
    queryFn: () => getSweepRanked(jobId, query),
    placeholderData: keepPreviousData,
    staleTime: Infinity,
  });

export function sweepRankedCsvUrl(jobId: string): string {
  return `/api/v1/sweeps/${encodeURIComponent(jobId)}/ranked.csv`;
}
