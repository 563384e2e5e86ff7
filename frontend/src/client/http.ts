/**
 * The one typed client for the API. Cookies carry the session (httpOnly, never readable
 * here); every state-changing request echoes the CSRF cookie; a 401 triggers one refresh
 * (shared by concurrent callers, since a refresh token works only once) and one retry.
 */
import createClient from "openapi-fetch";
import type { paths } from "./schema";
import { CSRF_HEADER, csrfToken, needsCsrf } from "./csrf";
import { ApiError, toApiError } from "./problem";

const NO_REFRESH = ["/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/mfa/verify"];

let refreshing: Promise<boolean> | null = null;
let onSessionLost: () => void = () => undefined;

/** Called when the session cannot be refreshed (the app goes back to the login screen). */
export function setSessionLostHandler(handler: () => void): void {
  onSessionLost = handler;
}

function withCsrf(request: Request): Request {
  const token = csrfToken();
  if (!needsCsrf(request.method) || !token) return request;
  const headers = new Headers(request.headers);
  headers.set(CSRF_HEADER, token);
  return new Request(request, { headers });
}

async function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    const headers: Record<string, string> = {};
    const token = csrfToken();
    if (token) headers[CSRF_HEADER] = token;
    try {
      const response = await globalThis.fetch("/api/v1/auth/refresh", {
        method: "POST",
        credentials: "same-origin",
        headers,
      });
      return response.ok;
    } catch {
      return false;
    }
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** fetch with the CSRF header and one refresh-and-retry on 401. */
export async function apiFetch(input: Request): Promise<Response> {
  const retry = input.clone();
  const response = await globalThis.fetch(withCsrf(input));
  const path = new URL(input.url, "http://localhost").pathname;
  if (response.status !== 401 || NO_REFRESH.includes(path)) return response;
  if (await refreshSession()) return globalThis.fetch(withCsrf(retry));
  onSessionLost();
  return response;
}

function baseUrl(): string {
  return typeof window === "undefined" ? "http://localhost" : window.location.origin;
}

export const api = createClient<paths>({
  baseUrl: baseUrl(),
  credentials: "same-origin",
  fetch: (request: Request) => apiFetch(request),
});

interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful call, or the problem document thrown as an ApiError. */
export async function unwrap<T>(call: Promise<Outcome<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw toApiError(response.status, error);
  return data as T;
}

export { ApiError };
