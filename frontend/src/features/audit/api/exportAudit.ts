import type { AuditFilters } from "./listAuditEntries";

/** GET /audit/export as a download link (NDJSON with a signed checkpoint), same filters. */
export function auditExportUrl(filters: AuditFilters): string {
  const query = new URLSearchParams(Object.entries(filters).filter(([, v]) => Boolean(v)) as [string, string][]);
  const text = query.toString();
  return `/api/v1/audit/export${text ? `?${text}` : ""}`;
}
