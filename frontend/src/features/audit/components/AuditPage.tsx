import { useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Can, RequirePermission } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { ErrorNotice, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { formatDateTime } from "../../../lib/format";
import { auditExportUrl } from "../api/exportAudit";
import { auditEntriesQuery, type AuditFilters } from "../api/listAuditEntries";
import { verifyAudit } from "../api/verifyAudit";

export function AuditPage() {
  return (
    <RequirePermission permission="audit.read">
      <AuditLog />
    </RequirePermission>
  );
}

/** Local date-time input (no zone) as UTC ISO text for the API. */
function toIso(local: string): string | undefined {
  return local ? new Date(`${local}Z`).toISOString() : undefined;
}

function AuditLog() {
  const [draft, setDraft] = useState({ actor: "", action: "", since: "", until: "" });
  const [filters, setFilters] = useState<AuditFilters>({});
  const [offset, setOffset] = useState(0);
  const entries = useQuery(auditEntriesQuery(filters, offset));
  const verify = useMutation({ mutationFn: verifyAudit });
  const apply = (event: FormEvent) => {
    event.preventDefault();
    setOffset(0);
    setFilters(
      Object.fromEntries(
        Object.entries({ actor: draft.actor.trim(), action: draft.action.trim(), since: toIso(draft.since), until: toIso(draft.until) }).filter(
          ([, v]) => Boolean(v),
        ),
      ),
    );
  };
  return (
    <>
      <PageHeader
        title="Audit log"
        actions={
          <>
            <Can permission="audit.verify">
              <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
                {verify.isPending ? "Verifying…" : "Verify the chain"}
              </button>
            </Can>
            <Can permission="audit.export">
              <a className="button" href={auditExportUrl(filters)} download>
                Export (signed)
              </a>
            </Can>
          </>
        }
      >
        Hash-chained, append-only record of every change and sign-in.
      </PageHeader>
      <ErrorNotice error={verify.error} />
      {verify.data ? (
        <div className={`notice ${verify.data.ok ? "notice-ok" : "notice-error"}`} role="status">
          {verify.data.ok ? "Chain intact" : "Chain problems found"}: {verify.data.entries} entries, {verify.data.checkpoints} checkpoints
          {verify.data.problems.length > 0 ? (
            <ul>
              {verify.data.problems.map((p, i) => (
                <li key={i}>
                  {p.check} at {p.seq ?? "–"}: {p.message}
                </li>
              ))}
            </ul>
          ) : null}
          {verify.data.notes.map((note) => (
            <div key={note} className="muted">
              {note}
            </div>
          ))}
        </div>
      ) : null}
      <form className="card toolbar" onSubmit={apply} aria-label="filters">
        {(["actor", "action"] as const).map((key) => (
          <label key={key}>
            {key}{" "}
            <input value={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
          </label>
        ))}
        {(["since", "until"] as const).map((key) => (
          <label key={key}>
            {key} (UTC){" "}
            <input type="datetime-local" value={draft[key]} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
          </label>
        ))}
        <button type="submit">Apply</button>
      </form>
      <QueryState query={entries}>
        {(page) => (
          <DataTable
            caption="audit entries"
            rows={page.items}
            rowKey={(e) => String(e.seq)}
            page={{ offset, limit: page.limit, total: page.total }}
            onPage={setOffset}
            empty="No entries match."
            columns={[
              { key: "seq", header: "#", numeric: true },
              { key: "time", header: "Time", render: (e) => formatDateTime(e.time) },
              { key: "actor", header: "Actor" },
              { key: "action", header: "Action" },
              { key: "target", header: "Target", render: (e) => e.target ?? "–" },
              { key: "outcome", header: "Outcome" },
              { key: "client_ip", header: "Client", render: (e) => e.client_ip ?? "–" },
              {
                key: "details",
                header: "Details",
                render: (e) => (
                  <details>
                    <summary>view</summary>
                    <pre className="wrap">{JSON.stringify(e.details, null, 1)}</pre>
                    <small className="muted">hash {e.hash.slice(0, 16)}… prev {e.prev_hash.slice(0, 16)}…</small>
                  </details>
                ),
              },
            ]}
          />
        )}
      </QueryState>
    </>
  );
}
