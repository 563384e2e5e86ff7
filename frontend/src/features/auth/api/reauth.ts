import { api, unwrap } from "../../../client/http";

/** Re-authentication, required within 5 minutes before enrolling or disabling MFA. */
export function reauth(password: string, code?: string): Promise<void> {
  return unwrap(api.POST("/api/v1/auth/reauth", { body: { password, code: code || null } })).then(() => undefined);
}
