import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getCustomStrategy(strategyId: string) {
  return unwrap(api.GET("/api/v1/strategies/custom/{strategy_id}", { params: { path: { strategy_id: strategyId } } }));
}

export const customStrategyQuery = (strategyId: string) =>
  queryOptions({ queryKey: ["strategies", "custom", "detail", strategyId], queryFn: () => getCustomStrategy(strategyId) });
