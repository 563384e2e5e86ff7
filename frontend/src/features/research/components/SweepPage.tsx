import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { DataTable, type SortState } from "../../../components/DataTable";
import { QueryState } from "../../../components/feedback";
import { Heatmap } from "../../../components/Heatmap";
import { PageHeader } from "../../../components/PageHeader";
import { formatNumber, formatPercent } from "../../../lib/format";
import { sweepQuery } from "../api/getResearchJob";
import { sweepDiagnosticsQuery } from "../api/getSweepDiagnostics";
import { sweepRankedCsvUrl, sweepRankedQuery } from "../api/getSweepRanked";
import { paramGrid, sweptParameters, type Trial } from "./paramGrid";
import { ResearchJobStatus } from "./ResearchJobStatus";

const RESULT_COLUMNS = new Set([
  "rank", "trial", "equity_end", "total_return", "cagr", "annual_volatility", "sharpe", "sortino", "calmar",
  "max_drawdown", "win_rate", "profit_factor", "turnover", "exposure", "n_trades",
]);
const PERCENT = new Set(["total_return", "cagr", "annual_volatility", "max_drawdown", "win_rate", "exposure"]);
const LOWER_IS_BETTER = new Set(["max_drawdown", "annual_volatility"]);
const PAGE = 25;

function cell(key: string, value: unknown): string {
  if (typeof value !== "number") return value === null || value === undefined ? "–" : String(value);
  return PERCENT.has(key) ? formatPercent(value) : formatNumber(value, 3);
}

export function SweepPage() {
  const { jobId = "" } = useParams();
  const job = useQuery(sweepQuery(jobId));
  return (
    <QueryState query={job}>
      {(data) => (
        <>
          <PageHeader title={`Sweep · ${data.name}`}>{String((data.summary as { objective?: string } | null)?.objective ?? "")}</PageHeader>
          <ResearchJobStatus job={data} kind="sweep" />
          {data.status === "succeeded" ? (
            <>
              <Diagnostics jobId={jobId} />
              <GridHeatmap jobId={jobId} objective={String((data.summary as { objective?: string } | null)?.objective ?? "sharpe")} />
              <RankedTable jobId={jobId} />
            </>
          ) : null}
        </>
      )}
    </QueryState>
  );
}

function Diagnostics({ jobId }: { jobId: string }) {
  const diagnostics = useQuery(sweepDiagnosticsQuery(jobId));
  return (
    <section className="card" aria-labelledby="diag-title">
      <h2 id="diag-title">Overfitting diagnostics</h2>
      <QueryState query={diagnostics}>
        {(doc) => {
          const dsr = (doc.deflated_sharpe ?? {}) as Record<string, number>;
          const pbo = (doc.pbo ?? {}) as Record<string, number>;
          const lookahead = (doc.lookahead ?? {}) as { clean?: boolean; findings?: unknown[]; cut_bars_checked?: number };
          return (
            <dl className="metrics">
              <div className="metric">
                <dt>Deflated Sharpe ratio (probability the best is real)</dt>
                <dd>{formatPercent(dsr.dsr)}</dd>
              </div>
              <div className="metric">
                <dt>Best Sharpe vs expected max of {dsr.n_trials} trials</dt>
                <dd>
                  {formatNumber(dsr.sharpe_annualised, 2)} vs {formatNumber(dsr.expected_max_sharpe_annualised, 2)}
                </dd>
              </div>
              <div className="metric">
                <dt>Probability of backtest overfitting (CSCV, {pbo.n_blocks} blocks)</dt>
                <dd>{formatPercent(pbo.pbo)}</dd>
              </div>
              <div className="metric">
                <dt>Probability of an out-of-sample loss</dt>
                <dd>{formatPercent(pbo.prob_oos_loss)}</dd>
              </div>
              <div className="metric">
                <dt>Look-ahead check ({lookahead.cut_bars_checked ?? 0} cuts)</dt>
                <dd>{lookahead.clean ? "clean" : `${lookahead.findings?.length ?? 0} findings`}</dd>
              </div>
            </dl>
          );
        }}
      </QueryState>
    </section>
  );
}

function GridHeatmap({ jobId, objective }: { jobId: string; objective: string }) {
  const top = useQuery(sweepRankedQuery(jobId, { limit: 500, offset: 0 }));
  const trials = useMemo(() => (top.data?.items ?? []) as Trial[], [top.data]);
  const params = useMemo(() => {
    const keys = Object.keys(trials[0] ?? {}).filter((k) => !RESULT_COLUMNS.has(k));
    return sweptParameters(trials, keys);
  }, [trials]);
  const [rowKey, setRowKey] = useState<string | null>(null);
  const [columnKey, setColumnKey] = useState<string | null>(null);
  const [metric, setMetric] = useState(objective);
  const rowParam = rowKey ?? params[0];
  const columnParam = columnKey ?? params[1] ?? params[0];
  if (!top.data) return <QueryState query={top}>{() => null}</QueryState>;
  if (!rowParam || !columnParam) return null;
  const grid = paramGrid(trials, rowParam, columnParam, metric, !LOWER_IS_BETTER.has(metric));
  const select = (id: string, label: string, value: string, options: string[], set: (v: string) => void) => (
    <label htmlFor={id}>
      {label}{" "}
      <select id={id} value={value} onChange={(e) => set(e.target.value)}>
        {options.map((o) => (
          <option key={o}>{o}</option>
        ))}
      </select>
    </label>
  );
  return (
    <section className="card" aria-labelledby="grid-title">
      <h2 id="grid-title">Parameter grid</h2>
      <div className="toolbar">
        {select("grid-rows", "Rows", rowParam, params, setRowKey)}
        {select("grid-columns", "Columns", columnParam, params, setColumnKey)}
        {select("grid-metric", "Metric", metric, [...RESULT_COLUMNS].filter((k) => k !== "rank" && k !== "trial"), setMetric)}
      </div>
      <Heatmap
        caption={`${metric} by ${rowParam} × ${columnParam}${top.data.total > trials.length ? ` (best ${trials.length} of ${top.data.total} trials)` : ""}`}
        rowLabel={`${rowParam} \\ ${columnParam}`}
        rows={grid.rows}
        columns={grid.columns}
        values={grid.values}
        format={(v) => cell(metric, v)}
      />
    </section>
  );
}

function RankedTable({ jobId }: { jobId: string }) {
  const [sort, setSort] = useState<SortState | null>(null);
  const [offset, setOffset] = useState(0);
  const ranked = useQuery(
    sweepRankedQuery(jobId, { limit: PAGE, offset, ...(sort ? { sort_by: sort.key, descending: sort.descending } : {}) }),
  );
  const keys = Object.keys(ranked.data?.items[0] ?? {});
  return (
    <section className="card" aria-labelledby="ranked-title">
      <h2 id="ranked-title">Ranked trials</h2>
      <a className="button" href={sweepRankedCsvUrl(jobId)} download>
        Download ranked CSV
      </a>
      <QueryState query={ranked}>
        {(page) => (
          <DataTable
            caption="ranked trials"
            rows={page.items}
            rowKey={(row) => String(row.trial)}
            sort={sort}
            onSort={(next) => {
              setSort(next);
              setOffset(0);
            }}
            page={{ offset, limit: PAGE, total: page.total }}
            onPage={setOffset}
            columns={keys.map((key) => ({
              key,
              header: key.replace(/_/g, " "),
              sortable: true,
              numeric: typeof page.items[0]?.[key] === "number",
              render: (row: Record<string, unknown>) => cell(key, row[key]),
            }))}
          />
        )}
      </QueryState>
    </section>
  );
}
