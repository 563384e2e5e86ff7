import { useEffect, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { NavLink, useNavigate } from "react-router-dom";
import { hasPermission, type Permission } from "../lib/permissions";
import { useSession } from "../lib/session/SessionContext";
import { meQueryKey } from "../lib/session/getMe";
import { logout } from "../features/auth/api/logout";
import { applyTheme, initialTheme, type Theme } from "./theme";

interface NavItem {
  to: string;
  label: string;
  permission: Permission | null;
}

/** Screens in the menu; each shows only to the roles that may use it. */
export const NAV_ITEMS: NavItem[] = [
  { to: "/", label: "Dashboard", permission: null },
  { to: "/data", label: "Data", permission: "datasets.read" },
  { to: "/strategies", label: "Strategies", permission: "strategies.read" },
  { to: "/backtests/new", label: "New backtest", permission: "backtests.run" },
  { to: "/backtests", label: "Backtests", permission: "backtests.read" },
  { to: "/research", label: "Research", permission: "backtests.read" },
  { to: "/audit", label: "Audit log", permission: "audit.read" },
  { to: "/users", label: "Users", permission: "users.manage" },
];

export function visibleNavItems(permissions: readonly string[] | undefined): NavItem[] {
  return NAV_ITEMS.filter((item) => item.permission === null || hasPermission(permissions, item.permission));
}

export function Layout({ children }: { children: ReactNode }) {
  const me = useSession();
  const [theme, setTheme] = useState<Theme>(initialTheme);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  useEffect(() => applyTheme(theme), [theme]);

  const signOut = async () => {
    try {
      await logout();
    } finally {
      queryClient.clear();
      queryClient.setQueryData(meQueryKey, null);
      navigate("/login");
    }
  };

  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Contango</span>
        <nav aria-label="main" className="nav">
          {visibleNavItems(me?.permissions).map((item) => (
            <NavLink key={item.to} to={item.to} end={item.to === "/" || item.to === "/backtests"}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="user">
          <button
            type="button"
            aria-label={`switch to ${theme === "dark" ? "light" : "dark"} theme`}
            onClick={() => setTheme(theme === "dark" ? "light" : "dark")}
          >
            {theme === "dark" ? "☀" : "☾"}
          </button>
          <NavLink to="/account/security" title="account security">
            {me?.display_name || me?.email} <span className="badge">{me?.role.replace("_", " ")}</span>
          </NavLink>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      {me && !me.mfa_enabled && !me.sso ? (
        <p className="banner" role="note">
          Two-factor authentication is off. <NavLink to="/account/security">Turn it on</NavLink>.
        </p>
      ) : null}
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
