import { createContext, useContext, type ReactNode } from "react";
import type { Me } from "../../client/types";
import { hasPermission, type Permission } from "../permissions";

const SessionContext = createContext<Me | null>(null);

export function SessionProvider({ me, children }: { me: Me | null; children: ReactNode }) {
  return <SessionContext.Provider value={me}>{children}</SessionContext.Provider>;
}

/** The signed-in user (null on the public screens). */
export function useSession(): Me | null {
  return useContext(SessionContext);
}

/** Whether the signed-in user holds every permission named. */
export function useCan(needed: Permission | readonly Permission[]): boolean {
  return hasPermission(useSession()?.permissions, needed);
}
