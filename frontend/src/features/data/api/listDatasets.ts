import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listDatasets(search: string, offset: number, limit: number) {
  return unwrap(api.GET("/api/v1/datasets", { params: { query: { offset, limit, ...(search ? { search } : {}) } } }));
}

export const datasetsQuery = (search: string, offset: number, limit = 50) =>
  queryOptions({
    queryKey: ["datasets", "list", search, offset, limit],
    queryFn: () => listDatasets(search, offset, limit),
    placeholderData: keepPreviousData,
  });
