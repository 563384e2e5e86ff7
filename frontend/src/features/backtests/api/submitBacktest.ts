import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

/** Queues a backtest (202): the answer is the job to follow. */
export function submitBacktest(body: Schemas["BacktestSubmit"]) {
  return unwrap(api.POST("/api/v1/backtests", { body }));
}
