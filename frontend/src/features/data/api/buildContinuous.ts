import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

export function buildContinuous(body: Schemas["ContinuousRequest"]) {
  return unwrap(api.POST("/api/v1/continuous", { body }));
}
