import { api, unwrap } from "../../../client/http";

/** Second step of login: a TOTP code or one recovery code for the challenge's token. */
export function verifyMfa(mfaToken: string, code: { code?: string; recovery_code?: string }) {
  return unwrap(
    api.POST("/api/v1/auth/mfa/verify", { body: { mfa_token: mfaToken, delivery: "cookie", ...code } }),
  );
}
