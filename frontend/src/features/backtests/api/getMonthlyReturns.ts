import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getMonthlyReturns(jobId: string) {
  return unwrap(api.GET("/api/v1/backtests/{job_id}/monthly-returns", { params: { path: { job_id: jobId } } }));
}

export const monthlyReturnsQuery = (jobId: string) =>
  queryOptions({
    queryKey: ["backtests", "monthly", jobId],
    queryFn: () => getMonthlyReturns(jobId),
    staleTime: Infinity,
  });
