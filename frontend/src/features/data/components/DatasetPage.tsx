import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useSearchParams } from "react-router-dom";
import { DataTable } from "../../../components/DataTable";
import { QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { formatDate, formatDateTime, formatNumber } from "../../../lib/format";
import { datasetQuery } from "../api/getDataset";
import { datasetVersionQuery } from "../api/getDatasetVersion";
import { ReportView } from "./ReportView";

/**
 * One dataset: /data/dataset?name=ES.1d. The name rides in the query because dataset names hold
 * dots, and a path with a dot looks like a static file to the server's app fallback.
 */
export function DatasetPage() {
  const [params] = useSearchParams();
  const name = params.get("name") ?? "";
  const dataset = useQuery(datasetQuery(name));
  const [chosen, setChosen] = useState<string | null>(null);
  return (
    <QueryState query={dataset}>
      {(data) => {
        const version = chosen ?? data.latest.id;
        return (
          <>
            <PageHeader title={data.name}>
              {data.kind} · {data.version_count} versions · {data.shared ? "shared" : "team"}
            </PageHeader>
            <section className="card" aria-labelledby="versions-title">
              <h2 id="versions-title">Versions</h2>
              <DataTable
                caption="versions"
                rows={data.versions}
                rowKey={(v) => v.id}
                columns={[
                  {
                    key: "id",
                    header: "Version",
                    render: (v) => (
                      <button type="button" className="link" aria-pressed={v.id === version} onClick={() => setChosen(v.id)}>
                        {v.id}
                      </button>
                    ),
                  },
                  { key: "parent", header: "Parent", render: (v) => v.parent ?? "–" },
                  { key: "created_at", header: "Created", render: (v) => formatDateTime(v.created_at) },
                  { key: "author", header: "Author" },
                  { key: "rows", header: "Rows", numeric: true, render: (v) => formatNumber(v.rows, 0) },
                  { key: "rows_added", header: "Added", numeric: true, render: (v) => formatNumber(v.rows_added, 0) },
                  { key: "rows_replaced", header: "Replaced", numeric: true, render: (v) => formatNumber(v.rows_replaced, 0) },
                  { key: "range", header: "Range", render: (v) => `${formatDate(v.start)} → ${formatDate(v.end)}` },
                  { key: "source", header: "Source", render: (v) => v.source?.name ?? "–" },
                  { key: "warning_count", header: "Warnings", numeric: true },
                ]}
              />
            </section>
            <VersionDetail name={data.name} version={version} />
          </>
        );
      }}
    </QueryState>
  );
}

function VersionDetail({ name, version }: { name: string; version: string }) {
  const manifest = useQuery(datasetVersionQuery(name, version));
  return (
    <section className="card" aria-labelledby="version-title">
      <h2 id="version-title">Version {version}</h2>
      <QueryState query={manifest}>
        {(m) => (
          <>
            <p className="muted">
              content hash <code>{m.content_hash.slice(0, 16)}</code> · {m.fragment_count} fragments · {m.contracts.length} contracts:{" "}
              {m.contracts.slice(0, 12).join(", ")}
              {m.contracts.length > 12 ? "…" : ""}
            </p>
            <h3>Validation report</h3>
            {m.report ? <ReportView report={m.report} /> : <p className="muted">No report stored with this version.</p>}
          </>
        )}
      </QueryState>
    </section>
  );
}
