import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { EmptyState, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { ProgressBar, StatusBadge } from "../../../components/StatusBadge";
import type { JobOut } from "../../../client/types";
import { formatDateTime, formatNumber, formatPercent } from "../../../lib/format";
import { useJobProgress } from "../../../lib/jobs/useJobProgress";
import { useSession } from "../../../lib/session/SessionContext";
import { activeJobsQuery, recentBacktestsQuery } from "../api/listJobs";

function jobLink(job: JobOut): string {
  if (job.kind === "sweep") return `/research/sweeps/${job.id}`;
  if (job.kind === "walkforward") return `/research/walkforward/${job.id}`;
  return `/backtests/${job.id}`;
}

function metric(job: JobOut, key: string): number | null {
  const value = (job.summary?.metrics as Record<string, unknown> | undefined)?.[key];
  return typeof value === "number" ? value : null;
}

function ActiveJob({ job }: { job: JobOut }) {
  const queryClient = useQueryClient();
  const live = useJobProgress(job.id, job, () => void queryClient.invalidateQueries({ queryKey: ["backtests"] }));
  return (
    <li className="active-job">
      <Link to={jobLink(job)}>
        {job.kind} · {job.name}
      </Link>{" "}
      <StatusBadge status={live.status} />
      <ProgressBar value={live.progress} label={live.message || live.status} />
    </li>
  );
}

export function DashboardPage() {
  const me = useSession();
  const active = useQuery(activeJobsQuery());
  const recent = useQuery(recentBacktestsQuery());
  return (
    <>
      <PageHeader
        title="Dashboard"
        actions={
          <>
            <Can permission="backtests.run">
              <Link className="button primary" to="/backtests/new">
                New backtest
              </Link>
            </Can>
            <Can permission="datasets.upload">
              <Link className="button" to="/data/upload">
                Upload data
              </Link>
            </Can>
            <Link className="button" to="/data">
              Browse data
            </Link>
          </>
        }
      >
        Signed in as {me?.email}
      </PageHeader>
      <section className="card" aria-labelledby="running-title">
        <h2 id="running-title">Running jobs</h2>
        <QueryState query={active} isEmpty={(jobs) => jobs.length === 0} empty={<p className="muted">No job is running.</p>}>
          {(jobs) => (
            <ul className="plain">
              {jobs.map((job) => (
                <ActiveJob key={job.id} job={job} />
              ))}
            </ul>
          )}
        </QueryState>
      </section>
      <section className="card" aria-labelledby="recent-title">
        <h2 id="recent-title">Recent backtests</h2>
        <QueryState
          query={recent}
          isEmpty={(page) => page.items.length === 0}
          empty={<EmptyState title="No backtests yet." />}
        >
          {(page) => (
            <DataTable
              caption="recent backtests"
              rows={page.items}
              rowKey={(job) => job.id}
              columns={[
                { key: "name", header: "Name", render: (job) => <Link to={`/backtests/${job.id}`}>{job.name}</Link> },
                { key: "status", header: "Status", render: (job) => <StatusBadge status={job.status} /> },
                { key: "submitted_at", header: "Submitted", render: (job) => formatDateTime(job.submitted_at) },
                { key: "total_return", header: "Return", numeric: true, render: (job) => formatPercent(metric(job, "total_return")) },
                { key: "sharpe", header: "Sharpe", numeric: true, render: (job) => formatNumber(metric(job, "sharpe")) },
              ]}
            />
          )}
        </QueryState>
      </section>
    </>
  );
}
