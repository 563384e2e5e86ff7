import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { Can } from "../../../components/Can";
import { DataTable, sortRows, type SortState } from "../../../components/DataTable";
import { QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { formatDate, formatMoney, formatNumber, formatPrice } from "../../../lib/format";
import { datasetsQuery } from "../api/listDatasets";
import { marketsQuery } from "../api/listMarkets";
import { ContinuousSection } from "./ContinuousSection";

type Tab = "contracts" | "datasets" | "continuous";

export function DataPage() {
  const [tab, setTab] = useState<Tab>("datasets");
  return (
    <>
      <PageHeader
        title="Data"
        actions={
          <Can permission="datasets.upload">
            <Link className="button primary" to="/data/upload">
              Upload dataset
            </Link>
          </Can>
        }
      />
      <div role="tablist" aria-label="data" className="tabs toolbar">
        {(["datasets", "contracts", "continuous"] as Tab[]).map((name) => (
          <button key={name} type="button" role="tab" aria-selected={tab === name} onClick={() => setTab(name)}>
            {name === "contracts" ? "Contract specifications" : name === "datasets" ? "Datasets" : "Continuous series"}
          </button>
        ))}
      </div>
      {tab === "contracts" ? <ContractsSection /> : tab === "datasets" ? <DatasetsSection /> : <ContinuousSection />}
    </>
  );
}

function ContractsSection() {
  const [search, setSearch] = useState("");
  const [sort, setSort] = useState<SortState | null>({ key: "root", descending: false });
  const markets = useQuery(marketsQuery(search));
  return (
    <section className="card" aria-label="contract specifications">
      <div className="field">
        <label htmlFor="contract-search">Search</label>
        <input id="contract-search" type="search" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      <QueryState query={markets}>
        {(page) => (
          <DataTable
            caption="contract specifications"
            rows={sortRows(page.items, sort)}
            rowKey={(m) => m.root}
            sort={sort}
            onSort={setSort}
            columns={[
              { key: "root", header: "Root", sortable: true, render: (m) => <Link to={`/data/markets/${m.root}`}>{m.root}</Link> },
              { key: "name", header: "Name", sortable: true },
              { key: "exchange", header: "Exchange", sortable: true },
              { key: "sector", header: "Sector", sortable: true },
              { key: "tick_size", header: "Tick", numeric: true, render: (m) => formatPrice(m.tick_size, m) },
              { key: "tick_value", header: "Tick value", numeric: true, sortable: true, render: (m) => `${formatNumber(m.tick_value, 4)} ${m.currency}` },
              { key: "point_value", header: "Point value", numeric: true, sortable: true, render: (m) => formatNumber(m.point_value, 2) },
              { key: "months", header: "Months" },
              { key: "initial_margin", header: "Initial margin", numeric: true, sortable: true, render: (m) => formatMoney(m.initial_margin, m.currency) },
            ]}
          />
        )}
      </QueryState>
    </section>
  );
}

function DatasetsSection() {
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  const datasets = useQuery(datasetsQuery(search, offset));
  return (
    <section className="card" aria-label="datasets">
      <div className="field">
        <label htmlFor="dataset-search">Search</label>
        <input
          id="dataset-search"
          type="search"
          value={search}
          onChange={(e) => {
            setSearch(e.target.value);
            setOffset(0);
          }}
        />
      </div>
      <QueryState query={datasets}>
        {(page) => (
          <DataTable
            caption="datasets"
            rows={page.items}
            rowKey={(d) => d.name}
            page={{ offset, limit: page.limit, total: page.total }}
            onPage={setOffset}
            empty="No datasets match."
            columns={[
              { key: "name", header: "Dataset", render: (d) => <Link to={`/data/dataset?name=${encodeURIComponent(d.name)}`}>{d.name}</Link> },
              { key: "kind", header: "Kind" },
              { key: "version", header: "Latest version", render: (d) => <code>{d.latest.id}</code> },
              { key: "versions", header: "Versions", numeric: true, render: (d) => d.version_count },
              { key: "rows", header: "Rows", numeric: true, render: (d) => formatNumber(d.latest.rows, 0) },
              { key: "contracts", header: "Contracts", numeric: true, render: (d) => d.latest.contract_count },
              { key: "range", header: "Range", render: (d) => `${formatDate(d.latest.start)} → ${formatDate(d.latest.end)}` },
              { key: "warnings", header: "Warnings", numeric: true, render: (d) => d.latest.warning_count },
            ]}
          />
        )}
      </QueryState>
    </section>
  );
}
