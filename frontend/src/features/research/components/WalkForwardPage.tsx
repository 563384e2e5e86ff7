import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { DataTable } from "../../../components/DataTable";
import { QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { TimeSeriesChart } from "../../../components/TimeSeriesChart";
import { formatMoney, formatNumber, formatPercent } from "../../../lib/format";
import { walkforwardQuery } from "../api/getResearchJob";
import { walkforwardEquityQuery, walkforwardSummaryQuery, walkforwardWindowsQuery } from "../api/getWalkforwardResults";
import { ResearchJobStatus } from "./ResearchJobStatus";

export function WalkForwardPage() {
  const { jobId = "" } = useParams();
  const job = useQuery(walkforwardQuery(jobId));
  return (
    <QueryState query={job}>
      {(data) => (
        <>
          <PageHeader title={`Walk-forward · ${data.name}`} />
          <ResearchJobStatus job={data} kind="walkforward" />
          {data.status === "succeeded" ? <Results jobId={jobId} /> : null}
        </>
      )}
    </QueryState>
  );
}

function Results({ jobId }: { jobId: string }) {
  const summary = useQuery(walkforwardSummaryQuery(jobId));
  const windows = useQuery(walkforwardWindowsQuery(jobId));
  const equity = useQuery(walkforwardEquityQuery(jobId));
  const series = useMemo(() => {
    const ts = (equity.data?.ts ?? []) as number[];
    const values = (equity.data?.equity ?? []) as number[];
    return [{ name: "Out-of-sample equity", ts, values, color: "#2563eb", kind: "area" as const, format: (v: number) => formatMoney(v) }];
  }, [equity.data]);
  return (
    <>
      <section className="card" aria-labelledby="wf-summary">
        <h2 id="wf-summary">Out of sample</h2>
        <QueryState query={summary}>
          {(doc) => (
            <dl className="metrics">
              <div className="metric"><dt>Windows</dt><dd>{String(doc.windows)}</dd></div>
              <div className="metric"><dt>OOS Sharpe</dt><dd>{formatNumber(doc.oos_sharpe as number, 2)}</dd></div>
              <div className="metric"><dt>OOS total return</dt><dd>{formatPercent(doc.oos_total_return as number)}</dd></div>
              <div className="metric"><dt>OOS max drawdown</dt><dd>{formatPercent(doc.oos_max_drawdown as number)}</dd></div>
              <div className="metric">
                <dt>Parameter stability (modal share)</dt>
                <dd>{formatPercent((doc.stability as { modal_share?: number } | undefined)?.modal_share)}</dd>
              </div>
            </dl>
          )}
        </QueryState>
        <QueryState query={equity} isEmpty={(d) => !Array.isArray(d.ts) || d.ts.length === 0}>
          {() => <TimeSeriesChart series={series} label="out-of-sample equity" height={280} />}
        </QueryState>
      </section>
      <section className="card" aria-labelledby="wf-windows">
        <h2 id="wf-windows">Windows</h2>
        <QueryState query={windows}>
          {(page) => (
            <DataTable
              caption="walk-forward windows"
              rows={page.items}
              rowKey={(row) => String(row.window)}
              columns={Object.keys(page.items[0] ?? {}).map((key) => ({
                key,
                header: key.replace(/^param_/, "").replace(/_/g, " "),
                numeric: typeof page.items[0]?.[key] === "number",
                render: (row: Record<string, unknown>) =>
                  typeof row[key] === "number" ? (key === "oos_return" ? formatPercent(row[key] as number) : formatNumber(row[key], 3)) : String(row[key] ?? "–"),
              }))}
            />
          )}
        </QueryState>
      </section>
    </>
  );
}
