import { api, unwrap } from "../../../client/http";

export function cancelBacktest(jobId: string) {
  return unwrap(api.POST("/api/v1/backtests/{job_id}/cancel", { params: { path: { job_id: jobId } } }));
}
