/** The permission names of the backend's matrix that the UI gates screens and actions on. */
export type Permission =
  | "contracts.read"
  | "datasets.read"
  | "datasets.upload"
  | "continuous.read"
  | "continuous.build"
  | "strategies.read"
  | "strategies.code"
  | "backtests.read"
  | "backtests.run"
  | "backtests.cancel"
  | "research.run"
  | "audit.read"
  | "audit.export"
  | "audit.verify"
  | "users.read"
  | "users.manage";

export function hasPermission(
  permissions: readonly string[] | undefined,
  needed: Permission | readonly Permission[],
): boolean {
  if (!permissions) return false;
  const all = typeof needed === "string" ? [needed] : needed;
  return all.every((permission) => permissions.includes(permission));
}
