import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router-dom";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { ErrorNotice, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { StatusBadge } from "../../../components/StatusBadge";
import type { JobOut, Schemas } from "../../../client/types";
import { formatDateTime } from "../../../lib/format";
import { sweepsQuery, walkforwardsQuery } from "../api/listResearchJobs";
import { submitResearch } from "../api/submitResearch";

const EXAMPLE = {
  backtest: {
    name: "ES crossover sweep",
    markets: [{ root: "ES" }],
    start: "2012-01-01",
    end: "2020-12-31",
    strategy: { name: "ma_crossover", params: {} },
  },
  sweep: {
    params: { fast_window: { grid: [5, 10, 20, 40] }, slow_window: { grid: { start: 50, stop: 200, step: 50 } } },
    objective: "sharpe",
  },
};

function jobTable(jobs: JobOut[], base: string, caption: string) {
  return (
    <DataTable
      caption={caption}
      rows={jobs}
      rowKey={(j) => j.id}
      empty="None yet."
      columns={[
        { key: "name", header: "Name", render: (j) => <Link to={`${base}/${j.id}`}>{j.name}</Link> },
        { key: "status", header: "Status", render: (j) => <StatusBadge status={j.status} /> },
        { key: "submitted_at", header: "Submitted", render: (j) => formatDateTime(j.submitted_at) },
        { key: "best", header: "Best objective", numeric: true, render: (j) => String((j.summary as { best_objective?: number } | null)?.best_objective?.toFixed(3) ?? "–") },
      ]}
    />
  );
}

export function ResearchPage() {
  const sweeps = useQuery(sweepsQuery());
  const walkforwards = useQuery(walkforwardsQuery());
  return (
    <>
      <PageHeader title="Research">Parameter sweeps with overfitting diagnostics, and walk-forward analysis.</PageHeader>
      <section className="card" aria-labelledby="sweeps-title">
        <h2 id="sweeps-title">Sweeps</h2>
        <QueryState query={sweeps}>{(page) => jobTable(page.items, "/research/sweeps", "sweeps")}</QueryState>
      </section>
      <section className="card" aria-labelledby="wf-title">
        <h2 id="wf-title">Walk-forward runs</h2>
        <QueryState query={walkforwards}>{(page) => jobTable(page.items, "/research/walkforward", "walk-forward runs")}</QueryState>
      </section>
      <Can permission="research.run">
        <ResearchLauncher />
      </Can>
    </>
  );
}

/** A research configuration as JSON (the YAML of `contango backtest sweep`, as JSON). */
function ResearchLauncher() {
  const [text, setText] = useState(JSON.stringify(EXAMPLE, null, 2));
  const [parseError, setParseError] = useState<string | null>(null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const submit = useMutation({
    mutationFn: submitResearch,
    onSuccess: (job) => {
      void queryClient.invalidateQueries({ queryKey: [job.kind === "sweep" ? "sweeps" : "walkforward"] });
      navigate(job.kind === "sweep" ? `/research/sweeps/${job.id}` : `/research/walkforward/${job.id}`);
    },
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    try {
      const config = JSON.parse(text) as Schemas["ResearchConfig"];
      setParseError(null);
      submit.mutate({ config });
    } catch (error) {
      setParseError(`not valid JSON: ${(error as Error).message}`);
    }
  };
  return (
    <form className="card" onSubmit={onSubmit} aria-labelledby="research-new">
      <h2 id="research-new">New sweep or walk-forward run</h2>
      <p className="muted">Add a <code>walkforward</code> section (in_sample_bars, out_of_sample_bars) to run a walk-forward analysis.</p>
      <div className="field">
        <label htmlFor="research-config">Configuration (JSON)</label>
        <textarea id="research-config" className="code" spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
        {parseError ? <small className="field-error">{parseError}</small> : null}
      </div>
      <ErrorNotice error={submit.error} title="Not started" />
      <button type="submit" className="primary" disabled={submit.isPending}>
        Submit
      </button>
    </form>
  );
}
