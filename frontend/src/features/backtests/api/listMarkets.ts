import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

/** Every contract specification (the registry holds a few dozen markets). */
export function listMarkets() {
  return unwrap(api.GET("/api/v1/contracts", { params: { query: { limit: 500, offset: 0 } } }));
}

export const marketsQuery = () =>
  queryOptions({ queryKey: ["contracts", "list", "all"], queryFn: listMarkets, staleTime: Infinity });
