import { api, unwrap } from "../../../client/http";

/** A new TOTP secret with its otpauth URI and QR code; active only once confirmed. */
export function enrollMfa() {
  return unwrap(api.POST("/api/v1/auth/mfa/enroll"));
}
