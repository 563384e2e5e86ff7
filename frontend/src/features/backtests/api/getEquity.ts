import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

/**
 * The equity curve thinned by the server to `maxPoints` (it keeps the deepest drawdown), so
 * a minute-bar run of millions of bars arrives as a curve the chart draws at once.
 */
export function getEquity(jobId: string, maxPoints: number) {
  return unwrap(
    api.GET("/api/v1/backtests/{job_id}/equity", {
      params: { path: { job_id: jobId }, query: { max_points: maxPoints } },
    }),
  );
}

export const equityQuery = (jobId: string, maxPoints = 20_000) =>
  queryOptions({
    queryKey: ["backtests", "equity", jobId, maxPoints],
    queryFn: () => getEquity(jobId, maxPoints),
    staleTime: Infinity,
  });
