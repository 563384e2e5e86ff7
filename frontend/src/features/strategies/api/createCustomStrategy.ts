import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

export function createCustomStrategy(body: Schemas["StrategyCreate"]) {
  return unwrap(api.POST("/api/v1/strategies/custom", { body }));
}
