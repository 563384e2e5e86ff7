import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

/** Deflated Sharpe ratio, probability of backtest overfitting and the look-ahead check. */
export function getSweepDiagnostics(jobId: string) {
  return unwrap(api.GET("/api/v1/sweeps/{job_id}/diagnostics", { params: { path: { job_id: jobId } } }));
}

export const sweepDiagnosticsQuery = (jobId: string) =>
  queryOptions({ queryKey: ["sweeps", "diagnostics", jobId], queryFn: () => getSweepDiagnostics(jobId), staleTime: Infinity });
