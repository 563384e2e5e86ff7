import { useQuery } from "@tanstack/react-query";
import { DataTable } from "../../../components/DataTable";
import { QueryState } from "../../../components/feedback";
import { formatMoney, formatNumber, formatPercent } from "../../../lib/format";
import { metricsQuery } from "../api/getMetrics";
import { confidenceLevel, metricRows, perMarket } from "./metrics";

export function MetricsPanel({ jobId }: { jobId: string }) {
  const metrics = useQuery(metricsQuery(jobId));
  return (
    <QueryState query={metrics}>
      {(doc) => {
        const figures = (doc.metrics ?? {}) as Record<string, unknown>;
        const level = confidenceLevel(figures);
        return (
          <>
            <section className="card" aria-labelledby="metrics-title">
              <h2 id="metrics-title">Metrics</h2>
              <dl className="metrics">
                {metricRows(figures).map((row) => (
                  <div key={row.key} className="metric">
                    <dt>{row.label}</dt>
                    <dd>
                      {row.value}
                      {row.interval ? (
                        <small className="muted" title={`${Math.round((level ?? 0.95) * 100)}% bootstrap interval`}>
                          {" "}
                          {Math.round((level ?? 0.95) * 100)}% CI {row.interval}
                        </small>
                      ) : null}
                    </dd>
                  </div>
                ))}
              </dl>
            </section>
            <section className="card" aria-labelledby="markets-title">
              <h2 id="markets-title">By market</h2>
              <DataTable
                caption="per-market breakdown"
                rowKey={(row) => row.market}
                rows={perMarket(figures)}
                columns={[
                  { key: "market", header: "Market" },
                  { key: "n_trades", header: "Trades", numeric: true, render: (r) => formatNumber(r.n_trades, 0) },
                  { key: "pnl", header: "P&L", numeric: true, render: (r) => formatMoney(r.pnl) },
                  { key: "win_rate", header: "Win rate", numeric: true, render: (r) => formatPercent(r.win_rate) },
                  { key: "share_of_pnl", header: "Share of P&L", numeric: true, render: (r) => formatPercent(r.share_of_pnl) },
                  { key: "return_contribution", header: "Return contribution", numeric: true, render: (r) => formatPercent(r.return_contribution) },
                ]}
              />
            </section>
          </>
        );
      }}
    </QueryState>
  );
}
