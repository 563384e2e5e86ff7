import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listSweeps() {
  return unwrap(api.GET("/api/v1/sweeps", { params: { query: { limit: 100, offset: 0 } } }));
}

export function listWalkforwards() {
  return unwrap(api.GET("/api/v1/walkforward", { params: { query: { limit: 100, offset: 0 } } }));
}

export const sweepsQuery = () => queryOptions({ queryKey: ["sweeps", "list"], queryFn: listSweeps });
export const walkforwardsQuery = () => queryOptions({ queryKey: ["walkforward", "list"], queryFn: listWalkforwards });
