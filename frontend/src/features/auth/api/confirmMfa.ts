import { api, unwrap } from "../../../client/http";

/** Confirms enrolment with a first code; answers the single-use recovery codes. */
export function confirmMfa(code: string) {
  return unwrap(api.POST("/api/v1/auth/mfa/confirm", { body: { code } }));
}
