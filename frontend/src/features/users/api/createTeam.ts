import { api, unwrap } from "../../../client/http";

export function createTeam(name: string) {
  return unwrap(api.POST("/api/v1/users/teams", { body: { name } }));
}
