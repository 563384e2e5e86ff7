import { api, unwrap } from "../../../client/http";

export function deleteCustomStrategy(strategyId: string): Promise<void> {
  return unwrap(api.DELETE("/api/v1/strategies/custom/{strategy_id}", { params: { path: { strategy_id: strategyId } } })).then(
    () => undefined,
  );
}
