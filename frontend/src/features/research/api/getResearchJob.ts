import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getSweep(jobId: string) {
  return unwrap(api.GET("/api/v1/sweeps/{job_id}", { params: { path: { job_id: jobId } } }));
}

export function getWalkforward(jobId: string) {
  return unwrap(api.GET("/api/v1/walkforward/{job_id}", { params: { path: { job_id: jobId } } }));
}

const poll = (status: string | undefined) => (status && ["queued", "running"].includes(status) ? 3000 : false);

export const sweepQuery = (jobId: string) =>
  queryOptions({
    queryKey: ["sweeps", "detail", jobId],
    queryFn: () => getSweep(jobId),
    refetchInterval: (q) => poll(q.state.data?.status),
  });

export const walkforwardQuery = (jobId: string) =>
  queryOptions({
    queryKey: ["walkforward", "detail", jobId],
    queryFn: () => getWalkforward(jobId),
    refetchInterval: (q) => poll(q.state.data?.status),
  });
