import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getWalkforwardSummary(jobId: string) {
  return unwrap(api.GET("/api/v1/walkforward/{job_id}/summary", { params: { path: { job_id: jobId } } }));
}

export function getWalkforwardWindows(jobId: string) {
  return unwrap(
    api.GET("/api/v1/walkforward/{job_id}/windows", { params: { path: { job_id: jobId }, query: { limit: 500, offset: 0 } } }),
  );
}

export function getWalkforwardEquity(jobId: string) {
  return unwrap(api.GET("/api/v1/walkforward/{job_id}/oos-equity", { params: { path: { job_id: jobId } } }));
}

export const walkforwardSummaryQuery = (jobId: string) =>
  queryOptions({ queryKey: ["walkforward", "summary", jobId], queryFn: () => getWalkforwardSummary(jobId), staleTime: Infinity });
export const walkforwardWindowsQuery = (jobId: string) =>
  queryOptions({ queryKey: ["walkforward", "windows", jobId], queryFn: () => getWalkforwardWindows(jobId), staleTime: Infinity });
export const walkforwardEquityQuery = (jobId: string) =>
  queryOptions({ queryKey: ["walkforward", "equity", jobId], queryFn: () => getWalkforwardEquity(jobId), staleTime: Infinity });
