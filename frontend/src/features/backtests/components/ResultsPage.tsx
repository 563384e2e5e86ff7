import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "react-router-dom";
import { QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { formatDateTime } from "../../../lib/format";
import { backtestQuery } from "../api/getBacktest";
import { EquityCharts } from "./EquityCharts";
import { JobStatusPanel } from "./JobStatusPanel";
import { MetricsPanel } from "./MetricsPanel";
import { MonthlyHeatmap } from "./MonthlyHeatmap";
import { ResultTables } from "./ResultTables";

/** The market roots of a job's configuration (a free-form mapping in the schema). */
export function configMarkets(config: Record<string, unknown>): string[] {
  const markets = config.markets;
  if (!Array.isArray(markets)) return [];
  return markets.map((m: { root?: unknown }) => String(m.root ?? "")).filter(Boolean);
}

export function ResultsPage() {
  const { jobId = "" } = useParams();
  const job = useQuery({
    ...backtestQuery(jobId),
    // Until the socket reports the end, re-read the row now and then as a fallback.
    refetchInterval: (query) =>
      query.state.data && ["queued", "running"].includes(query.state.data.status) ? 5000 : false,
  });
  return (
    <QueryState query={job}>
      {(data) => (
        <>
          <PageHeader
            title={data.name || "Backtest"}
            actions={<Link to={`/compare?ids=${data.id}`}>Compare with…</Link>}
          >
            Submitted {formatDateTime(data.submitted_at)} · config {data.config_hash.slice(0, 12)}
          </PageHeader>
          <JobStatusPanel job={data} />
          {data.status === "succeeded" ? (
            <>
              <EquityCharts jobId={data.id} />
              <MetricsPanel jobId={data.id} />
              <MonthlyHeatmap jobId={data.id} />
              <ResultTables jobId={data.id} markets={configMarkets(data.config)} />
            </>
          ) : null}
        </>
      )}
    </QueryState>
  );
}
