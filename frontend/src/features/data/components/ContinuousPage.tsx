import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "react-router-dom";
import { DataTable } from "../../../components/DataTable";
import { Loading, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { TimeSeriesChart } from "../../../components/TimeSeriesChart";
import { formatDate, formatPrice, isoToMs, type TickSpec } from "../../../lib/format";
import { continuousQuery } from "../api/getContinuous";
import { marketQuery } from "../api/getMarket";

const DECIMAL: TickSpec = { tick_size: 0.0001, price_quote: "decimal" };

export function ContinuousPage() {
  const { seriesId = "" } = useParams();
  const series = useQuery(continuousQuery(seriesId));
  const root = series.data?.request.root ?? "";
  const market = useQuery({ ...marketQuery(root), enabled: Boolean(root) });
  // Prices wait for the market's quoting rules (32nds for Treasuries) rather than flashing
  // decimals first; a root without a specification is quoted in decimals.
  const specPending = Boolean(root) && market.isPending;
  const spec: TickSpec = market.data ?? DECIMAL;
  const chart = useMemo(() => {
    const data = series.data;
    if (!data) return null;
    const ts = (data.series.columns.ts ?? []).map((v) => isoToMs(String(v)));
    const close = (data.series.columns.close ?? []).map((v) => (typeof v === "number" ? v : null));
    // Labels only while they fit; past a few dozen rolls the arrows alone mark them.
    const labelled = data.roll_schedule.length <= 24;
    const markers = data.roll_schedule.map((roll) => ({ ts: isoToMs(roll.ts), text: labelled ? roll.to_contract : "" }));
    return { ts, close, markers };
  }, [series.data]);
  return (
    <QueryState query={series}>
      {(data) => specPending ? <Loading /> : (
        <>
          <PageHeader title={`${data.request.root} continuous${data.request.name ? ` · ${data.request.name}` : ""}`}>
            {data.dataset} @ {data.version} · {data.bars.toLocaleString("en-US")} bars · {data.rolls} rolls ·{" "}
            {data.request.adjust} adjustment
          </PageHeader>
          <section className="card" aria-labelledby="cs-chart">
            <h2 id="cs-chart">Close with roll markers</h2>
            {chart ? (
              <TimeSeriesChart
                label={`${data.request.root} continuous close with ${data.rolls} rolls`}
                series={[{ name: data.request.root, ts: chart.ts, values: chart.close, color: "#2563eb", format: (v) => formatPrice(v, spec) }]}
                markers={chart.markers}
                height={360}
              />
            ) : null}
          </section>
          <section className="card" aria-labelledby="cs-rolls">
            <h2 id="cs-rolls">Roll schedule</h2>
            <DataTable
              caption="roll schedule"
              rows={data.roll_schedule}
              rowKey={(r) => `${r.ts}-${r.to_contract}`}
              columns={[
                { key: "ts", header: "Roll", render: (r) => formatDate(r.ts) },
                { key: "from_contract", header: "From" },
                { key: "to_contract", header: "To" },
                { key: "reason", header: "Reason" },
                { key: "from_close", header: "From close", numeric: true, render: (r) => formatPrice(r.from_close, spec) },
                { key: "to_close", header: "To close", numeric: true, render: (r) => formatPrice(r.to_close, spec) },
                { key: "gap", header: "Gap", numeric: true, render: (r) => formatPrice(r.gap, spec) },
                { key: "cumulative", header: "Cumulative adjustment", numeric: true, render: (r) => formatPrice(r.cumulative, spec) },
              ]}
            />
          </section>
        </>
      )}
    </QueryState>
  );
}
