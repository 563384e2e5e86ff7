import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

/** A dataset with the lineage of its versions, newest first. */
export function getDataset(name: string) {
  return unwrap(api.GET("/api/v1/datasets/{name}", { params: { path: { name } } }));
}

export const datasetQuery = (name: string) =>
  queryOptions({ queryKey: ["datasets", "detail", name], queryFn: () => getDataset(name) });
