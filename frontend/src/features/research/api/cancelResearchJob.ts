import { api, unwrap } from "../../../client/http";

export function cancelResearchJob(kind: "sweep" | "walkforward", jobId: string) {
  const params = { params: { path: { job_id: jobId } } };
  return kind === "sweep"
    ? unwrap(api.POST("/api/v1/sweeps/{job_id}/cancel", params))
    : unwrap(api.POST("/api/v1/walkforward/{job_id}/cancel", params));
}
