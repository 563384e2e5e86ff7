import { describe, expect, it, vi } from "vitest";
import { useState } from "react";
import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { DataTable, sortRows, type SortState } from "../src/components/DataTable";

interface Trade {
  id: string;
  market: string;
  pnl: number;
}
const trades: Trade[] = [
  { id: "a", market: "ES", pnl: 120 },
  { id: "b", market: "CL", pnl: -40 },
  { id: "c", market: "ZN", pnl: 75 },
];

function Harness({ onSort }: { onSort?: (s: SortState) => void }) {
  const [sort, setSort] = useState<SortState | null>(null);
  const [offset, setOffset] = useState(0);
  const page = sortRows(trades, sort).slice(offset, offset + 2);
  return (
    <DataTable
      caption="trades"
      rows={page}
      rowKey={(t) => t.id}
      sort={sort}
      onSort={(s) => {
        setSort(s);
        onSort?.(s);
      }}
      page={{ offset, limit: 2, total: trades.length }}
      onPage={setOffset}
      columns={[
        { key: "market", header: "Market", sortable: true },
        { key: "pnl", header: "P&L", sortable: true, numeric: true },
      ]}
    />
  );
}

const bodyMarkets = () =>
  within(screen.getByRole("table"))
    .getAllByRole("row")
    .slice(1)
    .map((row) => within(row).getAllByRole("cell")[0]?.textContent);

describe("DataTable", () => {
  it("sorts ascending then descending from the header buttons and tells aria-sort", async () => {
    const user = userEvent.setup();
    const onSort = vi.fn();
    render(<Harness onSort={onSort} />);
    const header = screen.getByRole("button", { name: /P&L/ });
    await user.click(header);
    expect(onSort).toHaveBeenLastCalledWith({ key: "pnl", descending: false });
    expect(screen.getByRole("columnheader", { name: /P&L/ })).toHaveAttribute("aria-sort", "ascending");
    expect(bodyMarkets()).toEqual(["CL", "ZN"]);
    await user.click(header);
    expect(onSort).toHaveBeenLastCalledWith({ key: "pnl", descending: true });
    expect(bodyMarkets()).toEqual(["ES", "ZN"]);
  });

  it("pages with Previous/Next and says which rows are shown", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    expect(screen.getByText("1–2 of 3")).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Previous" })).toBeDisabled();
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByText("3–3 of 3")).toBeInTheDocument();
    expect(bodyMarkets()).toEqual(["ZN"]);
    expect(screen.getByRole("button", { name: "Next" })).toBeDisabled();
  });

  it("says so when there are no rows", () => {
    render(<DataTable caption="x" rows={[]} rowKey={() => ""} columns={[{ key: "a", header: "A" }]} empty="No trades." />);
    expect(screen.getByText("No trades.")).toBeInTheDocument();
  });
});

describe("sortRows", () => {
  it("puts missing values last and compares numbers numerically", () => {
    const rows = [{ v: 10 }, { v: null }, { v: 9 }, { v: 100 }];
    expect(sortRows(rows, { key: "v", descending: false }).map((r) => r.v)).toEqual([9, 10, 100, null]);
  });
});
