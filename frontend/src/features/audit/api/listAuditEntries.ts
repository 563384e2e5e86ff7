import { keepPreviousData, queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

export interface AuditFilters {
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
}

export function listAuditEntries(filters: AuditFilters, offset: number, limit: number) {
  return unwrap(api.GET("/api/v1/audit/entries", { params: { query: { ...filters, offset, limit } } }));
}

export const auditEntriesQuery = (filters: AuditFilters, offset: number, limit = 50) =>
  queryOptions({
    queryKey: ["audit", "entries", filters, offset, limit],
    queryFn: () => listAuditEntries(filters, offset, limit),
    placeholderData: keepPreviousData,
  });
