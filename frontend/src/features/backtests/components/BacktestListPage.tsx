import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router-dom";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { QueryState, EmptyState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { StatusBadge } from "../../../components/StatusBadge";
import { formatDateTime, formatNumber, formatPercent } from "../../../lib/format";
import { backtestsQuery } from "../api/listBacktests";
import { num } from "./metrics";

const PAGE = 25;

export function BacktestListPage() {
  const [offset, setOffset] = useState(0);
  const [chosen, setChosen] = useState<string[]>([]);
  const list = useQuery(backtestsQuery({ limit: PAGE, offset }));
  const navigate = useNavigate();
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));
  return (
    <>
      <PageHeader
        title="Backtests"
        actions={
          <>
            <button type="button" disabled={chosen.length < 2} onClick={() => navigate(`/compare?ids=${chosen.join(",")}`)}>
              Compare {chosen.length > 1 ? chosen.length : ""} runs
            </button>
            <Can permission="backtests.run">
              <Link className="button primary" to="/backtests/new">
                New backtest
              </Link>
            </Can>
          </>
        }
      />
      <QueryState
        query={list}
        isEmpty={(d) => d.total === 0}
        empty={<EmptyState title="No backtests yet." />}
      >
        {(data) => (
          <DataTable
            caption="backtests"
            rows={data.items}
            rowKey={(job) => job.id}
            page={{ offset, limit: PAGE, total: data.total }}
            onPage={setOffset}
            columns={[
              {
                key: "pick",
                header: "Compare",
                render: (job) => (
                  <input
                    type="checkbox"
                    aria-label={`compare ${job.name} ${job.id.slice(0, 8)}`}
                    checked={chosen.includes(job.id)}
                    disabled={job.status !== "succeeded"}
                    onChange={() => toggle(job.id)}
                  />
                ),
              },
              { key: "name", header: "Name", render: (job) => <Link to={`/backtests/${job.id}`}>{job.name}</Link> },
              { key: "status", header: "Status", render: (job) => <StatusBadge status={job.status} /> },
              { key: "submitted_at", header: "Submitted", render: (job) => formatDateTime(job.submitted_at) },
              { key: "return", header: "Total return", numeric: true, render: (job) => formatPercent(summaryMetric(job.summary, "total_return")) },
              { key: "sharpe", header: "Sharpe", numeric: true, render: (job) => formatNumber(summaryMetric(job.summary, "sharpe")) },
            ]}
          />
        )}
      </QueryState>
    </>
  );
}

export function summaryMetric(summary: Record<string, unknown> | null, key: string): number | null {
  const metrics = summary?.metrics as Record<string, unknown> | undefined;
  return num(metrics?.[key]);
}
