import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listCustomStrategies() {
  return unwrap(api.GET("/api/v1/strategies/custom", { params: { query: { limit: 200, offset: 0 } } }));
}

export const customStrategiesQuery = () =>
  queryOptions({ queryKey: ["strategies", "custom", "list"], queryFn: listCustomStrategies });
