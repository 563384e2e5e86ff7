import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

/** The contract chain with last trade, first notice and roll dates, from `start`. */
export function getChain(root: string, start: string, limit: number) {
  return unwrap(api.GET("/api/v1/contracts/{root}/chain", { params: { path: { root }, query: { start, limit } } }));
}

export const chainQuery = (root: string, start: string, limit = 12) =>
  queryOptions({ queryKey: ["contracts", "chain", root, start, limit], queryFn: () => getChain(root, start, limit) });
