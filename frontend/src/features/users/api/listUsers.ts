import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listUsers() {
  return unwrap(api.GET("/api/v1/users", { params: { query: { limit: 500, offset: 0 } } }));
}

export const usersQuery = () => queryOptions({ queryKey: ["users", "list"], queryFn: listUsers });
