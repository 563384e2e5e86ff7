import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export function getOidcConfig() {
  return unwrap(api.GET("/api/v1/auth/oidc/config"));
}

export const oidcConfigQuery = () =>
  queryOptions({ queryKey: ["auth", "oidc-config"], queryFn: getOidcConfig, staleTime: Infinity });
