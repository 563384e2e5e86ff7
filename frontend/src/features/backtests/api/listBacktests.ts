import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";
import type { JobStatus } from "../../../client/types";

export interface BacktestListParams {
  status?: JobStatus;
  limit: number;
  offset: number;
}

export function listBacktests(params: BacktestListParams) {
  return unwrap(api.GET("/api/v1/backtests", { params: { query: params } }));
}

export const backtestsQuery = (params: BacktestListParams) =>
  queryOptions({
    queryKey: ["backtests", "list", params],
    queryFn: () => listBacktests(params),
    placeholderData: keepPreviousData,
  });
