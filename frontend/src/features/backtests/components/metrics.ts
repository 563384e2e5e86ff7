/**
 * Reading the metrics document (GET /backtests/{id}/metrics), which the schema types as a free
 * mapping: each figure is checked to be a number before it is shown.
 */
import { formatMoney, formatNumber, formatPercent } from "../../../lib/format";

export type MetricsDoc = Record<string, unknown>;

export interface MetricRow {
  key: string;
  label: string;
  value: string;
  interval: string | null;
}

type Kind = "percent" | "ratio" | "money" | "count" | "days";

const SHOWN: [string, string, Kind][] = [
  ["total_return", "Total return", "percent"],
  ["cagr", "CAGR", "percent"],
  ["annual_volatility", "Volatility (annual)", "percent"],
  ["sharpe", "Sharpe", "ratio"],
  ["sortino", "Sortino", "ratio"],
  ["calmar", "Calmar", "ratio"],
  ["max_drawdown", "Max drawdown", "percent"],
  ["max_drawdown_days", "Max drawdown (days)", "days"],
  ["win_rate", "Win rate", "percent"],
  ["profit_factor", "Profit factor", "ratio"],
  ["expectancy", "Expectancy per trade", "money"],
  ["n_trades", "Trades", "count"],
  ["exposure", "Time in market", "percent"],
  ["turnover", "Turnover (annual)", "ratio"],
  ["end_equity", "Final equity", "money"],
];

export function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function formatMetric(value: number | null, kind: Kind, currency = "USD"): string {
  if (value === null) return "–";
  if (kind === "percent") return formatPercent(value);
  if (kind === "money") return formatMoney(value, currency);
  if (kind === "count" || kind === "days") return formatNumber(value, 0);
  return formatNumber(value, 2);
}

/** The 95% interval of a metric as "[low, high]" when the bootstrap computed one. */
function interval(doc: MetricsDoc, key: string, kind: Kind): string | null {
  const intervals = doc.confidence_intervals as Record<string, unknown> | undefined;
  const entry = intervals?.[key];
  if (!Array.isArray(entry) || entry.length < 3) return null;
  const low = num(entry[1]);
  const high = num(entry[2]);
  if (low === null || high === null) return null;
  return `[${formatMetric(low, kind)}, ${formatMetric(high, kind)}]`;
}

export function metricRows(metrics: MetricsDoc, currency = "USD"): MetricRow[] {
  return SHOWN.filter(([key]) => key in metrics).map(([key, label, kind]) => ({
    key,
    label,
    value: formatMetric(num(metrics[key]), kind, currency),
    interval: interval(metrics, key, kind),
  }));
}

export function confidenceLevel(metrics: MetricsDoc): number | null {
  const intervals = metrics.confidence_intervals as Record<string, unknown> | undefined;
  return num(intervals?.confidence);
}

export interface MarketBreakdown {
  market: string;
  n_trades: number | null;
  pnl: number | null;
  win_rate: number | null;
  share_of_pnl: number | null;
  return_contribution: number | null;
}

export function perMarket(metrics: MetricsDoc): MarketBreakdown[] {
  const rows = metrics.per_market;
  if (!Array.isArray(rows)) return [];
  return rows.map((row: Record<string, unknown>) => ({
    market: String(row.market ?? ""),
    n_trades: num(row.n_trades),
    pnl: num(row.pnl),
    win_rate: num(row.win_rate),
    share_of_pnl: num(row.share_of_pnl),
    return_contribution: num(row.return_contribution),
  }));
}
