import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listContinuous() {
  return unwrap(api.GET("/api/v1/continuous", { params: { query: { limit: 200, offset: 0 } } }));
}

export const continuousListQuery = () =>
  queryOptions({ queryKey: ["continuous", "list"], queryFn: listContinuous });
