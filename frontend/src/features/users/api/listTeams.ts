import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function listTeams() {
  return unwrap(api.GET("/api/v1/users/teams"));
}

export const teamsQuery = () => queryOptions({ queryKey: ["users", "teams"], queryFn: listTeams });
