import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { RequirePermission } from "../../../components/Can";
import { ErrorNotice } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { ProgressBar } from "../../../components/StatusBadge";
import { ApiError } from "../../../client/problem";
import type { Schemas } from "../../../client/types";
import { formatBytes } from "../../../lib/format";
import { uploadDataset, type UploadResult } from "../api/uploadDataset";
import { ReportView } from "./ReportView";

export function UploadPage() {
  return (
    <RequirePermission permission="datasets.upload">
      <UploadForm />
    </RequirePermission>
  );
}

/** A refused upload's problem document carries the file's report: show it, not just "422". */
function refusedReport(error: unknown): Schemas["ReportOut"] | null {
  const report = error instanceof ApiError ? error.body.report : null;
  return report && typeof report === "object" ? (report as Schemas["ReportOut"]) : null;
}

function UploadForm() {
  const [dataset, setDataset] = useState("");
  const [root, setRoot] = useState("");
  const [contract, setContract] = useState("");
  const [timezone, setTimezone] = useState("UTC");
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<UploadResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const queryClient = useQueryClient();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file) return;
    setError(null);
    setResult(null);
    setProgress(0);
    try {
      const outcome = await uploadDataset({ dataset, root: root.trim(), contract: contract.trim(), timezone }, file, setProgress);
      setResult(outcome);
      void queryClient.invalidateQueries({ queryKey: ["datasets"] });
    } catch (caught) {
      setError(caught);
    } finally {
      setProgress(null);
    }
  };

  const report = refusedReport(error);
  return (
    <>
      <PageHeader title="Upload a dataset">CSV (.csv, .csv.gz) or Parquet; validated before it is imported as a new version.</PageHeader>
      <form className="card" onSubmit={submit}>
        <div className="form-grid">
          <div className="field">
            <label htmlFor="up-dataset">Dataset name</label>
            <input id="up-dataset" required pattern="[A-Za-z0-9_\-][A-Za-z0-9._\-]{0,199}" placeholder="ES.1d" value={dataset} onChange={(e) => setDataset(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="up-root">Market root</label>
            <input id="up-root" placeholder="ES" value={root} onChange={(e) => setRoot(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="up-contract">Contract (when the file has no symbol column)</label>
            <input id="up-contract" placeholder="ESZ24" value={contract} onChange={(e) => setContract(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="up-timezone">Time zone of naive timestamps</label>
            <input id="up-timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="up-file">File</label>
            <input id="up-file" type="file" required accept=".csv,.gz,.parquet" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
            {file ? <small className="muted">{file.name} · {formatBytes(file.size)}</small> : null}
          </div>
        </div>
        {progress !== null ? <ProgressBar value={progress} label={progress < 1 ? "uploading" : "validating and importing"} /> : null}
        <ErrorNotice error={error} title="Upload refused" />
        <button type="submit" className="primary" disabled={!file || progress !== null}>
          Upload
        </button>
      </form>
      {report ? (
        <section className="card" aria-label="refused file report">
          <ReportView report={report} />
        </section>
      ) : null}
      {result ? (
        <section className="card" aria-labelledby="upload-result">
          <h2 id="upload-result">{result.created ? "Imported" : "Nothing new: every row was already stored"}</h2>
          <p>
            <Link to={`/data/dataset?name=${encodeURIComponent(result.dataset)}`}>{result.dataset}</Link> version <code>{result.version.id}</code> ·{" "}
            {result.version.rows_added.toLocaleString("en-US")} rows added · {result.version.contracts.length} contracts
          </p>
          <ReportView report={result.report} />
        </section>
      ) : null}
    </>
  );
}
