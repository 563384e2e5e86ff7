import type { ReactNode } from "react";
import { useCan } from "../lib/session/SessionContext";
import type { Permission } from "../lib/permissions";

/** Renders its children only for users who hold the permission(s); the fallback otherwise. */
export function Can({
  permission,
  children,
  fallback = null,
}: {
  permission: Permission | readonly Permission[];
  children: ReactNode;
  fallback?: ReactNode;
}) {
  return <>{useCan(permission) ? children : fallback}</>;
}

/** A whole screen for a permission: others see why they cannot use it. */
export function RequirePermission({
  permission,
  children,
}: {
  permission: Permission | readonly Permission[];
  children: ReactNode;
}) {
  return (
    <Can
      permission={permission}
      fallback={
        <div className="notice notice-error" role="alert">
          <strong>Not allowed.</strong> Your role may not use this screen.
        </div>
      }
    >
      {children}
    </Can>
  );
}
