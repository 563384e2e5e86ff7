import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

export function updateCustomStrategy(strategyId: string, body: Schemas["StrategyUpdate"]) {
  return unwrap(api.PATCH("/api/v1/strategies/custom/{strategy_id}", { params: { path: { strategy_id: strategyId } }, body }));
}
