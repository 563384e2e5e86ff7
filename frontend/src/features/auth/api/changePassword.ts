import { api, unwrap } from "../../../client/http";

export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  return unwrap(
    api.POST("/api/v1/auth/password", { body: { current_password: currentPassword, new_password: newPassword } }),
  ).then(() => undefined);
}
