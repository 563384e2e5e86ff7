import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router-dom";
import { LoginPage } from "../src/features/auth/components/LoginPage";

type Reply = { status: number; body: unknown };

/** A fake API: answers per path, records each request's path and JSON body. */
function fakeApi(replies: Record<string, Reply[]>) {
  const requests: { path: string; body: unknown }[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: Request) => {
      const path = new URL(input.url).pathname;
      const text = await input.text();
      requests.push({ path, body: text ? JSON.parse(text) : null });
      const reply = replies[path]?.shift() ?? { status: 404, body: { title: "Not found", detail: `no reply for ${path}` } };
      return new Response(JSON.stringify(reply.body), { status: reply.status, headers: { "content-type": "application/json" } });
    }),
  );
  return requests;
}

function renderLogin() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={["/login"]}>
        <LoginPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("LoginPage", () => {
  it("asks for the TOTP code after the password and verifies it for cookies", async () => {
    const requests = fakeApi({
      "/api/v1/auth/oidc/config": [{ status: 200, body: { enabled: false, login_url: null } }],
      "/api/v1/auth/login": [{ status: 200, body: { mfa_required: true, mfa_token: "challenge-1", expires_in: 300 } }],
      "/api/v1/auth/mfa/verify": [{ status: 200, body: { delivery: "cookie", expires_in: 900, refresh_expires_in: 604800 } }],
    });
    const user = userEvent.setup();
    renderLogin();
    await user.type(screen.getByLabelText("E-mail"), "ana@example.com");
    await user.type(screen.getByLabelText("Password"), "correct horse battery");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.type(await screen.findByLabelText("Authentication code"), "123 456");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    await vi.waitFor(() => expect(requests.map((r) => r.path)).toContain("/api/v1/auth/mfa/verify"));
    const login = requests.find((r) => r.path === "/api/v1/auth/login");
    const verify = requests.find((r) => r.path === "/api/v1/auth/mfa/verify");
    expect(login?.body).toEqual({ email: "ana@example.com", password: "correct horse battery", delivery: "cookie" });
    expect(verify?.body).toEqual({ mfa_token: "challenge-1", code: "123456", delivery: "cookie" });
  });

  it("sends a recovery code instead when the user switches to it", async () => {
    const requests = fakeApi({
      "/api/v1/auth/oidc/config": [{ status: 200, body: { enabled: false, login_url: null } }],
      "/api/v1/auth/login": [{ status: 200, body: { mfa_required: true, mfa_token: "t", expires_in: 300 } }],
      "/api/v1/auth/mfa/verify": [{ status: 200, body: { delivery: "cookie", expires_in: 900, refresh_expires_in: 1 } }],
    });
    const user = userEvent.setup();
    renderLogin();
    await user.type(screen.getByLabelText("E-mail"), "a@example.com");
    await user.type(screen.getByLabelText("Password"), "pw");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    await user.click(await screen.findByRole("button", { name: "Use a recovery code instead" }));
    await user.type(screen.getByLabelText("Recovery code"), "abcd-efgh");
    await user.click(screen.getByRole("button", { name: "Verify" }));
    await vi.waitFor(() => expect(requests.at(-1)?.path).toBe("/api/v1/auth/mfa/verify"));
    expect(requests.find((r) => r.path === "/api/v1/auth/mfa/verify")?.body).toEqual({ mfa_token: "t", recovery_code: "abcd-efgh", delivery: "cookie" });
  });

  it("shows the API's detail when the password is wrong", async () => {
    fakeApi({
      "/api/v1/auth/oidc/config": [{ status: 200, body: { enabled: false, login_url: null } }],
      "/api/v1/auth/login": [{ status: 401, body: { title: "Unauthorized", status: 401, detail: "wrong e-mail or password" } }],
    });
    const user = userEvent.setup();
    renderLogin();
    await user.type(screen.getByLabelText("E-mail"), "a@example.com");
    await user.type(screen.getByLabelText("Password"), "nope");
    await user.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("wrong e-mail or password");
  });

  it("offers single sign-on only when the server has it", async () => {
    fakeApi({ "/api/v1/auth/oidc/config": [{ status: 200, body: { enabled: true, login_url: "/api/v1/auth/oidc/login" } }] });
    renderLogin();
    expect(await screen.findByRole("link", { name: "Sign in with single sign-on" })).toHaveAttribute("href", "/api/v1/auth/oidc/login");
  });
});
