import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getMetrics(jobId: string) {
  return unwrap(api.GET("/api/v1/backtests/{job_id}/metrics", { params: { path: { job_id: jobId } } }));
}

export const metricsQuery = (jobId: string) =>
  queryOptions({ queryKey: ["backtests", "metrics", jobId], queryFn: () => getMetrics(jobId), staleTime: Infinity });
