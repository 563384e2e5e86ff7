import { api, unwrap } from "../../../client/http";
import type { Schemas } from "../../../client/types";

/** Queues a sweep, or a walk-forward run when the config has a `walkforward` section. */
export function submitResearch(body: Schemas["ResearchSubmit"]) {
  return body.config.walkforward
    ? unwrap(api.POST("/api/v1/walkforward", { body }))
    : unwrap(api.POST("/api/v1/sweeps", { body }));
}
