import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router-dom";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { ErrorNotice, QueryState } from "../../../components/feedback";
import type { Schemas } from "../../../client/types";
import { formatDate, formatDateTime } from "../../../lib/format";
import { buildContinuous } from "../api/buildContinuous";
import { continuousListQuery } from "../api/listContinuous";

type Adjust = Schemas["ContinuousRequest"]["adjust"];

export function ContinuousSection() {
  const list = useQuery(continuousListQuery());
  return (
    <>
      <Can permission="continuous.build">
        <BuildForm />
      </Can>
      <section className="card" aria-label="continuous series">
        <QueryState query={list}>
          {(page) => (
            <DataTable
              caption="continuous series"
              rows={page.items}
              rowKey={(s) => s.id}
              empty="No continuous series built yet."
              columns={[
                { key: "root", header: "Root", render: (s) => <Link to={`/data/continuous/${s.id}`}>{s.request.root} {s.request.name}</Link> },
                { key: "adjust", header: "Adjustment", render: (s) => s.request.adjust ?? "none" },
                { key: "roll", header: "Roll", render: (s) => `${s.request.roll ?? "calendar"}, ${s.request.days ?? 5} days` },
                { key: "dataset", header: "Dataset", render: (s) => `${s.dataset} @ ${s.version}` },
                { key: "bars", header: "Bars", numeric: true },
                { key: "rolls", header: "Rolls", numeric: true },
                { key: "range", header: "Range", render: (s) => `${formatDate(s.first)} → ${formatDate(s.last)}` },
                { key: "created_at", header: "Built", render: (s) => formatDateTime(s.created_at) },
              ]}
            />
          )}
        </QueryState>
      </section>
    </>
  );
}

function BuildForm() {
  const [root, setRoot] = useState("");
  const [adjust, setAdjust] = useState<Adjust>("difference");
  const [days, setDays] = useState("5");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const build = useMutation({
    mutationFn: buildContinuous,
    onSuccess: (series) => {
      void queryClient.invalidateQueries({ queryKey: ["continuous", "list"] });
      navigate(`/data/continuous/${series.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    build.mutate({ root: root.trim().toUpperCase(), adjust, days: Number(days) });
  };
  return (
    <form className="card" onSubmit={submit} aria-label="build a continuous series">
      <h2>Build a continuous series</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="cs-root">Root</label>
          <input id="cs-root" required value={root} onChange={(e) => setRoot(e.target.value)} placeholder="ES" />
        </div>
        <div className="field">
          <label htmlFor="cs-adjust">Adjustment</label>
          <select id="cs-adjust" value={adjust} onChange={(e) => setAdjust(e.target.value as Adjust)}>
            <option value="none">None</option>
            <option value="difference">Difference (back-adjusted)</option>
            <option value="ratio">Ratio</option>
            <option value="forward">Forward</option>
            <option value="forward-ratio">Forward ratio</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="cs-days">Roll days before reference</label>
          <input id="cs-days" inputMode="numeric" value={days} onChange={(e) => setDays(e.target.value)} />
        </div>
      </div>
      <ErrorNotice error={build.error} />
      <button type="submit" className="primary" disabled={build.isPending}>
        {build.isPending ? "Building…" : "Build"}
      </button>
    </form>
  );
}
