import { useMemo } from "react";
import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../../../components/feedback";
import { TimeSeriesChart, type ChartSeries } from "../../../components/TimeSeriesChart";
import { formatMoney, formatPercent } from "../../../lib/format";
import { equityQuery } from "../api/getEquity";

export function EquityCharts({ jobId }: { jobId: string }) {
  const equity = useQuery(equityQuery(jobId));
  const series = useMemo(() => {
    const data = equity.data;
    if (!data) return null;
    const curve: ChartSeries[] = [
      { name: "Equity", ts: data.ts, values: data.equity, color: "#2563eb", kind: "area", format: (v) => formatMoney(v) },
    ];
    const drawdown: ChartSeries[] = [
      { name: "Drawdown", ts: data.ts, values: data.drawdown, color: "#dc2626", kind: "area", format: (v) => formatPercent(v, 1) },
    ];
    return { curve, drawdown };
  }, [equity.data]);
  return (
    <section className="card" aria-labelledby="equity-title">
      <h2 id="equity-title">Equity and drawdown</h2>
      <QueryState query={equity} isEmpty={(d) => d.ts.length === 0}>
        {() =>
          series ? (
            <>
              <TimeSeriesChart series={series.curve} label="equity curve" height={300} />
              <TimeSeriesChart series={series.drawdown} label="drawdown" height={160} />
            </>
          ) : null
        }
      </QueryState>
    </section>
  );
}
