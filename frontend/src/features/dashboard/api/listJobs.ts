import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";
import type { JobOut, JobStatus } from "../../../client/types";

export type JobKind = "backtests" | "sweeps" | "walkforward";

/** Jobs of one kind and status, newest first. */
export function listJobs(kind: JobKind, status: JobStatus | undefined, limit: number) {
  const query = { params: { query: { limit, offset: 0, ...(status ? { status } : {}) } } };
  if (kind === "backtests") return unwrap(api.GET("/api/v1/backtests", query));
  if (kind === "sweeps") return unwrap(api.GET("/api/v1/sweeps", query));
  return unwrap(api.GET("/api/v1/walkforward", query));
}

/** Queued and running jobs of every kind, for the dashboard's live list. */
export async function listActiveJobs(): Promise<JobOut[]> {
  const kinds: JobKind[] = ["backtests", "sweeps", "walkforward"];
  const pages = await Promise.all(
    kinds.flatMap((kind) => (["running", "queued"] as const).map((status) => listJobs(kind, status, 20))),
  );
  return pages.flatMap((page) => page.items).sort((a, b) => b.submitted_at.localeCompare(a.submitted_at));
}

export const activeJobsQuery = () =>
  queryOptions({ queryKey: ["jobs", "active"], queryFn: listActiveJobs, refetchInterval: 10_000 });

export const recentBacktestsQuery = () =>
  queryOptions({ queryKey: ["backtests", "list", "recent"], queryFn: () => listJobs("backtests", undefined, 10) });
