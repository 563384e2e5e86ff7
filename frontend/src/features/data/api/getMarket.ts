import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getMarket(root: string) {
  return unwrap(api.GET("/api/v1/contracts/{root}", { params: { path: { root } } }));
}

export const marketQuery = (root: string) =>
  queryOptions({ queryKey: ["contracts", "detail", root], queryFn: () => getMarket(root), staleTime: 300_000 });
