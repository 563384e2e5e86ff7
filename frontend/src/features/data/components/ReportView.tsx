import type { Schemas } from "../../../client/types";
import { DataTable } from "../../../components/DataTable";

/** A validation report: the verdict, the counts by check and every finding with its row. */
export function ReportView({ report }: { report: Schemas["ReportOut"] }) {
  return (
    <div>
      <p className={`notice ${report.ok ? "notice-ok" : "notice-error"}`} role="status">
        {report.source}: {report.rows.toLocaleString("en-US")} rows, {report.error_count} errors, {report.warning_count} warnings
        {report.ok ? " — accepted" : " — refused"}
      </p>
      {Object.keys(report.counts).length > 0 ? (
        <p className="muted">
          {Object.entries(report.counts)
            .map(([code, count]) => `${code}: ${count}`)
            .join(" · ")}
        </p>
      ) : null}
      <DataTable
        caption="validation findings"
        rows={report.findings}
        rowKey={(finding, index) => `${finding.code}-${finding.row ?? ""}-${index}`}
        empty="No findings."
        columns={[
          { key: "severity", header: "Severity" },
          { key: "code", header: "Check" },
          { key: "message", header: "Message" },
          { key: "row", header: "Row", numeric: true },
          { key: "column", header: "Column" },
          { key: "value", header: "Value" },
          { key: "contract", header: "Contract" },
        ]}
      />
    </div>
  );
}
