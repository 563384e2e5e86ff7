import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

export function updateUser(userId: string, body: Schemas["UserUpdate"]) {
  return unwrap(api.PATCH("/api/v1/users/{user_id}", { params: { path: { user_id: userId } }, body }));
}
