import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { DataTable, type Column, type SortState } from "../../../components/DataTable";
import { ErrorNotice, Loading } from "../../../components/feedback";
import type { MarketSummary } from "../../../client/types";
import { formatDateTime, formatMoney, formatNumber, formatPrice } from "../../../lib/format";
import { marketsQuery } from "../api/listMarkets";
import { resultTableCsvUrl, resultTableQuery, type ResultTable } from "../api/getResultTable";

type Row = Record<string, unknown>;

const TABLES: { table: ResultTable; label: string }[] = [
  { table: "trades", label: "Trades" },
  { table: "rolls", label: "Roll costs" },
  { table: "fills", label: "Fills" },
  { table: "positions", label: "Positions" },
  { table: "margin_calls", label: "Margin calls" },
  { table: "rejections", label: "Rejections" },
];
const PAGE = 50;
const MONEY = /(pnl|fees|fee|cost|slippage|commission|mae|mfe|equity|cash|margin|value)/;
const PRICE = /(price|close|open|high|low)$/;

/** How one cell shows: prices at the market's tick (32nds for Treasuries), money, times. */
export function renderCell(key: string, row: Row, specs: Map<string, MarketSummary>): string {
  const value = row[key];
  if (value === null || value === undefined || value === "") return "–";
  if (typeof value === "number") {
    const spec = specs.get(String(row.market ?? ""));
    if (PRICE.test(key) && spec) return formatPrice(value, spec);
    if (key === "direction") return value > 0 ? "Long" : value < 0 ? "Short" : "Flat";
    if (MONEY.test(key)) return formatMoney(value);
    return formatNumber(value, 4);
  }
  if (typeof value === "string" && key.endsWith("_ts")) return formatDateTime(value);
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

export function ResultTables({ jobId, markets }: { jobId: string; markets: string[] }) {
  const [table, setTable] = useState<ResultTable>("trades");
  const [market, setMarket] = useState("");
  const [sort, setSort] = useState<SortState | null>(null);
  const [offset, setOffset] = useState(0);
  const specs = useQuery(marketsQuery());
  const query = {
    limit: PAGE,
    offset,
    ...(market ? { market } : {}),
    ...(sort ? { sort_by: sort.key, descending: sort.descending } : {}),
  };
  const rows = useQuery(resultTableQuery(jobId, table, query));
  const specMap = useMemo(() => new Map((specs.data?.items ?? []).map((s) => [s.root, s])), [specs.data]);
  const columns: Column<Row>[] = useMemo(() => {
    const keys = Object.keys(rows.data?.items[0] ?? {});
    return keys.map((key) => ({
      key,
      header: key.replace(/_/g, " "),
      sortable: true,
      numeric: typeof rows.data?.items[0]?.[key] === "number",
      render: (row: Row) => renderCell(key, row, specMap),
    }));
  }, [rows.data, specMap]);

  const choose = (next: ResultTable) => {
    setTable(next);
    setSort(null);
    setOffset(0);
  };

  return (
    <section className="card" aria-labelledby="tables-title">
      <h2 id="tables-title">Trades and events</h2>
      <div className="toolbar">
        <div role="tablist" aria-label="result tables" className="tabs">
          {TABLES.map((item) => (
            <button key={item.table} type="button" role="tab" aria-selected={table === item.table} onClick={() => choose(item.table)}>
              {item.label}
            </button>
          ))}
        </div>
        <label>
          Market{" "}
          <select
            value={market}
            onChange={(e) => {
              setMarket(e.target.value);
              setOffset(0);
            }}
          >
            <option value="">all</option>
            {markets.map((root) => (
              <option key={root} value={root}>
                {root}
              </option>
            ))}
          </select>
        </label>
        <a className="button" href={resultTableCsvUrl(jobId, table)} download>
          Download {table.replace("_", " ")} CSV
        </a>
      </div>
      {rows.isPending ? <Loading /> : null}
      <ErrorNotice error={rows.error} />
      {rows.data ? (
        <DataTable
          caption={table}
          columns={columns}
          rows={rows.data.items}
          rowKey={(_, index) => String(offset + index)}
          sort={sort}
          onSort={(next) => {
            setSort(next);
            setOffset(0);
          }}
          page={{ offset, limit: PAGE, total: rows.data.total }}
          onPage={setOffset}
          empty={`No ${table.replace("_", " ")} in this run.`}
        />
      ) : null}
    </section>
  );
}
