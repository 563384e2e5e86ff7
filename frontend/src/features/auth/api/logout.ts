import { api, unwrap } from "../../../client/http";

export function logout(): Promise<void> {
  return unwrap(api.POST("/api/v1/auth/logout")).then(() => undefined);
}
