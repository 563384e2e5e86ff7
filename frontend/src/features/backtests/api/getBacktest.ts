import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getBacktest(jobId: string) {
  return unwrap(api.GET("/api/v1/backtests/{job_id}", { params: { path: { job_id: jobId } } }));
}

export const backtestQuery = (jobId: string) =>
  queryOptions({ queryKey: ["backtests", "detail", jobId], queryFn: () => getBacktest(jobId) });
