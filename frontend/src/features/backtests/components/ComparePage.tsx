import { useMemo } from "react";
import { useQueries } from "@tanstack/react-query";
import { Link, useSearchParams } from "react-router-dom";
import { EmptyState, ErrorNotice, Loading } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { TimeSeriesChart, type ChartSeries } from "../../../components/TimeSeriesChart";
import { formatMoney } from "../../../lib/format";
import { equityQuery } from "../api/getEquity";
import { metricsQuery } from "../api/getMetrics";
import { metricRows } from "./metrics";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

/** Several runs side by side: one equity chart, one metrics table with a column per run. */
export function ComparePage() {
  const [params] = useSearchParams();
  const ids = (params.get("ids") ?? "").split(",").filter(Boolean).slice(0, COLORS.length);
  const metrics = useQueries({ queries: ids.map((id) => metricsQuery(id)) });
  const curves = useQueries({ queries: ids.map((id) => equityQuery(id, 5000)) });
  const curveData = curves.map((c) => c.data);
  const curveKey = curves.map((c) => c.dataUpdatedAt).join(",");
  // useQueries answers a new array every render; rebuild the chart only when data changed.
  const series: ChartSeries[] = useMemo(
    () =>
      curveData.flatMap((data, index) =>
        data
          ? [{ name: ids[index]?.slice(0, 8) ?? "", ts: data.ts, values: data.equity, color: COLORS[index] ?? "#888", format: (v: number) => formatMoney(v) }]
          : [],
      ),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- curveKey changes exactly when curveData does
    [curveKey],
  );
  if (ids.length < 2) {
    return (
      <>
        <PageHeader title="Compare runs" />
        <EmptyState title="Pick two or more finished backtests to compare.">
          <Link to="/backtests">Choose runs</Link>
        </EmptyState>
      </>
    );
  }
  const docs = metrics.map((m) => (m.data?.metrics ?? {}) as Record<string, unknown>);
  const rows = metricRows(docs[0] ?? {});
  return (
    <>
      <PageHeader title="Compare runs">{ids.length} runs</PageHeader>
      {[...metrics, ...curves].map((q, i) => (q.error ? <ErrorNotice key={i} error={q.error} /> : null))}
      <section className="card" aria-labelledby="compare-equity">
        <h2 id="compare-equity">Equity</h2>
        {curves.some((c) => c.isPending) ? <Loading /> : <TimeSeriesChart series={series} label="equity of the compared runs" height={320} />}
      </section>
      <section className="card" aria-labelledby="compare-metrics">
        <h2 id="compare-metrics">Metrics</h2>
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Metric</th>
                {ids.map((id, index) => (
                  <th scope="col" key={id} className="num">
                    <Link to={`/backtests/${id}`} style={{ color: COLORS[index] }}>
                      {(metrics[index]?.data?.config as { name?: string } | undefined)?.name ?? id.slice(0, 8)} · {id.slice(0, 8)}
                    </Link>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.key}>
                  <th scope="row">{row.label}</th>
                  {docs.map((doc, index) => {
                    const cell = metricRows(doc).find((r) => r.key === row.key);
                    return (
                      <td key={ids[index]} className="num">
                        {cell?.value ?? "–"} {cell?.interval ? <small className="muted">{cell.interval}</small> : null}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </>
  );
}
