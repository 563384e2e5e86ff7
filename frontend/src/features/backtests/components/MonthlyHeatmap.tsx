import { useQuery } from "@tanstack/react-query";
import { QueryState } from "../../../components/feedback";
import { Heatmap } from "../../../components/Heatmap";
import { formatPercent } from "../../../lib/format";
import { monthlyReturnsQuery } from "../api/getMonthlyReturns";
import { monthlyGrid } from "./monthlyGrid";

export function MonthlyHeatmap({ jobId }: { jobId: string }) {
  const monthly = useQuery(monthlyReturnsQuery(jobId));
  return (
    <section className="card" aria-labelledby="monthly-title">
      <h2 id="monthly-title">Monthly returns</h2>
      <QueryState query={monthly} isEmpty={(d) => d.length === 0}>
        {(points) => {
          const grid = monthlyGrid(points);
          return (
            <Heatmap
              caption="Monthly returns, compounded per year"
              rowLabel="Year"
              rows={grid.years}
              columns={grid.columns}
              values={grid.values}
              format={(v) => formatPercent(v, 1)}
            />
          );
        }}
      </QueryState>
    </section>
  );
}
