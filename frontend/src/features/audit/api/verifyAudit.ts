import { api, unwrap } from "../../../client/http";

/** Re-hashes the whole chain and checks the signed checkpoints; names each problem found. */
export function verifyAudit() {
  return unwrap(api.GET("/api/v1/audit/verify"));
}
