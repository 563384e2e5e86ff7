import { describe, expect, it, vi } from "vitest";
import { apiFetch } from "../src/client/http";
import { ApiError, errorMessage, toApiError } from "../src/client/problem";
import { readCookie } from "../src/client/csrf";

describe("problem details", () => {
  it("keeps detail, field errors and the request id", () => {
    const error = toApiError(422, {
      type: "https://contango.dev/problems/invalid-input",
      title: "Invalid input",
      status: 422,
      detail: "the request does not match the schema at: body.config.markets",
      request_id: "abc",
      errors: [{ location: "body.config.markets", message: "Tuple should have at least 1 item" }],
    });
    expect(error).toBeInstanceOf(ApiError);
    expect(errorMessage(error)).toBe("the request does not match the schema at: body.config.markets");
    expect(error.errors).toEqual([{ location: "body.config.markets", message: "Tuple should have at least 1 item" }]);
    expect(error.requestId).toBe("abc");
  });

  it("falls back to the status when the body is not a problem", () => {
    expect(toApiError(502, "").detail).toBe("HTTP 502");
    expect(toApiError(500, "<html>gateway</html>").detail).toBe("<html>gateway</html>");
  });
});

describe("apiFetch", () => {
  it("reads a cookie by name", () => {
    expect(readCookie("contango_csrf", "a=1; contango_csrf=tok%3D; b=2")).toBe("tok=");
    expect(readCookie("missing", "a=1")).toBeNull();
  });

  it("sends the CSRF cookie as a header on POST, not on GET", async () => {
    document.cookie = "contango_csrf=token-123; path=/";
    const seen: Request[] = [];
    vi.stubGlobal("fetch", vi.fn(async (request: Request) => (seen.push(request), new Response("{}", { status: 200 }))));
    await apiFetch(new Request("http://localhost/api/v1/backtests", { method: "POST", body: "{}" }));
    await apiFetch(new Request("http://localhost/api/v1/backtests"));
    expect(seen[0]?.headers.get("X-CSRF-Token")).toBe("token-123");
    expect(seen[1]?.headers.get("X-CSRF-Token")).toBeNull();
  });

  it("refreshes once on 401 and retries the request with its body", async () => {
    const calls: string[] = [];
    let authed = false;
    vi.stubGlobal(
      "fetch",
      vi.fn(async (input: Request | string, init?: RequestInit) => {
        const url = typeof input === "string" ? input : input.url;
        const path = new URL(url, "http://localhost").pathname;
        const body = typeof input === "string" ? String(init?.body ?? "") : await input.text();
        calls.push(`${path} ${body}`);
        if (path === "/api/v1/auth/refresh") {
          authed = true;
          return new Response("{}", { status: 200 });
        }
        return new Response("{}", { status: authed ? 201 : 401 });
      }),
    );
    const response = await apiFetch(new Request("http://localhost/api/v1/users/teams", { method: "POST", body: '{"name":"x"}' }));
    expect(response.status).toBe(201);
    expect(calls).toEqual(['/api/v1/users/teams {"name":"x"}', "/api/v1/auth/refresh ", '/api/v1/users/teams {"name":"x"}']);
  });

  it("does not try to refresh a failed login", async () => {
    const fetchMock = vi.fn(async () => new Response("{}", { status: 401 }));
    vi.stubGlobal("fetch", fetchMock);
    const response = await apiFetch(new Request("http://localhost/api/v1/auth/login", { method: "POST", body: "{}" }));
    expect(response.status).toBe(401);
    expect(fetchMock).toHaveBeenCalledTimes(1);
  });
});
