import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listMarkets(search: string) {
  return unwrap(api.GET("/api/v1/contracts", { params: { query: { limit: 500, offset: 0, ...(search ? { search } : {}) } } }));
}

export const marketsQuery = (search = "") =>
  queryOptions({ queryKey: ["contracts", "list", search], queryFn: () => listMarkets(search), staleTime: 300_000 });
