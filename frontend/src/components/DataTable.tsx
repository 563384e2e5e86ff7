/**
 * A table whose rows, sort and page come from its owner (the server sorts and pages the big
 * result tables; small lists are sorted by the owner in memory). Sortable headers are buttons,
 * so the keyboard reaches them; aria-sort tells screen readers the order.
 */
import type { ReactNode } from "react";

export interface Column<Row> {
  key: string;
  header: string;
  render?: (row: Row) => ReactNode;
  sortable?: boolean;
  numeric?: boolean;
}

export interface SortState {
  key: string;
  descending: boolean;
}

export interface PageState {
  offset: number;
  limit: number;
  total: number;
}

interface Props<Row> {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row, index: number) => string;
  sort?: SortState | null;
  onSort?: (sort: SortState) => void;
  page?: PageState;
  onPage?: (offset: number) => void;
  empty?: string;
}

export function DataTable<Row>({ caption, columns, rows, rowKey, sort, onSort, page, onPage, empty }: Props<Row>) {
  const toggle = (key: string) =>
    onSort?.({ key, descending: sort?.key === key ? !sort.descending : false });
  return (
    <div className="table-wrap">
      <table className="data-table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => {
              const active = sort?.key === column.key;
              const ariaSort = active ? (sort?.descending ? "descending" : "ascending") : undefined;
              return (
                <th key={column.key} scope="col" aria-sort={ariaSort} className={column.numeric ? "num" : undefined}>
                  {column.sortable && onSort ? (
                    <button type="button" className="sort" onClick={() => toggle(column.key)}>
                      {column.header}
                      <span aria-hidden="true">{active ? (sort?.descending ? " ▼" : " ▲") : " ↕"}</span>
                    </button>
                  ) : (
                    column.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length} className="muted">
                {empty ?? "No rows."}
              </td>
            </tr>
          ) : (
            rows.map((row, index) => (
              <tr key={rowKey(row, index)}>
                {columns.map((column) => (
                  <td key={column.key} className={column.numeric ? "num" : undefined}>
                    {column.render ? column.render(row) : String((row as Record<string, unknown>)[column.key] ?? "–")}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {page && onPage ? <Pager page={page} onPage={onPage} /> : null}
    </div>
  );
}

export function Pager({ page, onPage }: { page: PageState; onPage: (offset: number) => void }) {
  const { offset, limit, total } = page;
  const last = Math.min(offset + limit, total);
  return (
    <nav className="pager" aria-label="pages">
      <button type="button" onClick={() => onPage(Math.max(0, offset - limit))} disabled={offset === 0}>
        Previous
      </button>
      <span aria-live="polite">
        {total === 0 ? "0 rows" : `${offset + 1}–${last} of ${total.toLocaleString("en-US")}`}
      </span>
      <button type="button" onClick={() => onPage(offset + limit)} disabled={last >= total}>
        Next
      </button>
    </nav>
  );
}

/** Sorting for lists small enough to hold in memory (numbers numerically, the rest as text). */
export function sortRows<Row>(rows: Row[], sort: SortState | null | undefined): Row[] {
  if (!sort) return rows;
  const sign = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = (a as Record<string, unknown>)[sort.key];
    const y = (b as Record<string, unknown>)[sort.key];
    if (x == null) return 1;
    if (y == null) return -1;
    if (typeof x === "number" && typeof y === "number") return (x - y) * sign;
    return String(x).localeCompare(String(y)) * sign;
  });
}
