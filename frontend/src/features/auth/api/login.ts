import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

export type LoginAnswer = Schemas["CookieSessionResponse"] | Schemas["MfaChallenge"] | Schemas["TokenResponse"];

/** Password login asking for cookies; the answer is a session or an MFA challenge. */
export function login(email: string, password: string): Promise<LoginAnswer> {
  return unwrap(api.POST("/api/v1/auth/login", { body: { email, password, delivery: "cookie" } }));
}

export function isMfaChallenge(answer: LoginAnswer): answer is Schemas["MfaChallenge"] {
  return "mfa_token" in answer;
}
