import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

/** One version's manifest with its validation report. */
export function getDatasetVersion(name: string, version: string) {
  return unwrap(api.GET("/api/v1/datasets/{name}/versions/{version}", { params: { path: { name, version } } }));
}

export const datasetVersionQuery = (name: string, version: string) =>
  queryOptions({
    queryKey: ["datasets", "version", name, version],
    queryFn: () => getDatasetVersion(name, version),
    staleTime: Infinity,
  });
