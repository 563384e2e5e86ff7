import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { Can, RequirePermission } from "../src/components/Can";
import { SessionProvider } from "../src/lib/session/SessionContext";
import { hasPermission } from "../src/lib/permissions";
import { visibleNavItems } from "../src/app/Layout";
import type { Me } from "../src/client/types";

// The backend's matrix (contango/auth/rbac.py) for the roles exercised here.
const READ = ["contracts.read", "datasets.read", "continuous.read", "strategies.read", "backtests.read"];
const ANALYST = [...READ, "datasets.upload", "continuous.build", "backtests.run", "backtests.cancel", "research.run"];
const COMPLIANCE = [...READ, "audit.read", "audit.export", "audit.verify"];

function me(role: Me["role"], permissions: string[]): Me {
  return { id: "u", email: `${role}@example.com`, display_name: role, role, team_id: null, permissions, mfa_enabled: true, sso: false };
}

describe("permission gating", () => {
  it("needs every permission named", () => {
    expect(hasPermission(ANALYST, ["backtests.run", "datasets.upload"])).toBe(true);
    expect(hasPermission(READ, ["backtests.run", "datasets.read"])).toBe(false);
    expect(hasPermission(undefined, "datasets.read")).toBe(false);
  });

  it("shows the launcher only to roles that may run backtests", () => {
    const ui = (user: Me) => (
      <SessionProvider me={user}>
        <Can permission="backtests.run" fallback={<span>read only</span>}>
          <button type="button">Run backtest</button>
        </Can>
      </SessionProvider>
    );
    const { rerender } = render(ui(me("viewer", READ)));
    expect(screen.queryByRole("button", { name: "Run backtest" })).toBeNull();
    expect(screen.getByText("read only")).toBeInTheDocument();
    rerender(ui(me("analyst", ANALYST)));
    expect(screen.getByRole("button", { name: "Run backtest" })).toBeInTheDocument();
  });

  it("refuses a whole screen with an explanation", () => {
    render(
      <SessionProvider me={me("viewer", READ)}>
        <RequirePermission permission="datasets.upload">
          <h1>Upload</h1>
        </RequirePermission>
      </SessionProvider>,
    );
    expect(screen.queryByRole("heading", { name: "Upload" })).toBeNull();
    expect(screen.getByRole("alert")).toHaveTextContent("Not allowed.");
  });

  it("lists in the menu only the screens a role may use", () => {
    const labels = (permissions: string[]) => visibleNavItems(permissions).map((item) => item.label);
    expect(labels(READ)).toEqual(["Dashboard", "Data", "Strategies", "Backtests", "Research"]);
    expect(labels(ANALYST)).toContain("New backtest");
    expect(labels(ANALYST)).not.toContain("Audit log");
    expect(labels(COMPLIANCE)).toContain("Audit log");
    expect(labels(COMPLIANCE)).not.toContain("Users");
    expect(labels([...ANALYST, ...COMPLIANCE, "users.read", "users.manage", "strategies.code"])).toContain("Users");
  });
});
