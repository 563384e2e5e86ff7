import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

export function createUser(body: Schemas["UserCreate"]) {
  return unwrap(api.POST("/api/v1/users", { body }));
}
