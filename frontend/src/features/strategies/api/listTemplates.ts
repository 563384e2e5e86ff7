import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listTemplates() {
  return unwrap(api.GET("/api/v1/strategies/templates"));
}

export const templatesQuery = () =>
  queryOptions({ queryKey: ["strategies", "templates"], queryFn: listTemplates, staleTime: Infinity });
