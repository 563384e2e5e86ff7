import { api, unwrap } from "../../../client/http";

export function resetUserMfa(userId: string) {
  return unwrap(api.POST("/api/v1/users/{user_id}/reset-mfa", { params: { path: { user_id: userId } } }));
}
