import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../client/http";
import { ApiError } from "../../client/problem";
import type { Me } from "../../client/types";

/** The signed-in user, or null when there is no session (401). */
export async function getMe(): Promise<Me | null> {
  try {
    return await unwrap(api.GET("/api/v1/auth/me"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export const meQueryKey = ["auth", "me"] as const;

export const meQuery = () =>
  queryOptions({ queryKey: meQueryKey, queryFn: getMe, staleTime: 60_000, retry: false });
