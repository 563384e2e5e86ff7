import { describe, expect, it } from "vitest";
import { monthlyGrid } from "../src/features/backtests/components/monthlyGrid";
import { metricRows, perMarket } from "../src/features/backtests/components/metrics";
import { buildSubmission, DEFAULT_FORM } from "../src/features/backtests/components/launcherConfig";
import { renderCell } from "../src/features/backtests/components/ResultTables";
import { paramGrid, sweptParameters } from "../src/features/research/components/paramGrid";
import { toLineData } from "../src/components/TimeSeriesChart";
import { heatColor } from "../src/components/Heatmap";
import type { MarketSummary } from "../src/client/types";

describe("monthly returns grid", () => {
  it("compounds each year's months: (1.10)(0.95) - 1 = 4.5%", () => {
    const grid = monthlyGrid([
      { year: 2021, month: 1, return: 0.1 },
      { year: 2021, month: 3, return: -0.05 },
      { year: 2020, month: 12, return: 0.02 },
    ]);
    expect(grid.years).toEqual(["2020", "2021"]);
    expect(grid.columns).toHaveLength(13);
    expect(grid.values[1]?.[0]).toBe(0.1);
    expect(grid.values[1]?.[1]).toBeNull();
    expect(grid.values[1]?.[12]).toBeCloseTo(0.045, 12);
    expect(grid.values[0]?.[12]).toBeCloseTo(0.02, 12);
  });
});

describe("metrics", () => {
  const doc = {
    sharpe: 0.5,
    max_drawdown: 0.2,
    total_return: 0.1234,
    end_equity: 1_026_662.5,
    confidence_intervals: { confidence: 0.95, sharpe: [0.5, -0.25, 1.25], max_drawdown: [0.2, 0.1, 0.4] },
    per_market: [{ market: "ES", n_trades: 11, pnl: -9912.5, win_rate: 0.45, share_of_pnl: 1, return_contribution: -0.0099 }],
  };

  it("shows each figure in its unit with its bootstrap interval", () => {
    const rows = Object.fromEntries(metricRows(doc).map((r) => [r.key, r]));
    expect(rows.sharpe).toMatchObject({ value: "0.5", interval: "[-0.25, 1.25]" });
    expect(rows.max_drawdown).toMatchObject({ value: "20.00%", interval: "[10.00%, 40.00%]" });
    expect(rows.total_return).toMatchObject({ value: "12.34%", interval: null });
    expect(rows.end_equity?.value).toBe("$1,026,663");
  });

  it("reads the per-market breakdown", () => {
    expect(perMarket(doc)).toEqual([{ market: "ES", n_trades: 11, pnl: -9912.5, win_rate: 0.45, share_of_pnl: 1, return_contribution: -0.0099 }]);
    expect(perMarket({})).toEqual([]);
  });
});

describe("trade cells", () => {
  const zn = { root: "ZN", tick_size: 1 / 64, price_quote: "half_32nds" } as MarketSummary;
  const specs = new Map([["ZN", zn]]);
  it("writes a ZN fill in 32nds, P&L in dollars and direction in words", () => {
    const row = { market: "ZN", entry_price: 110 + 16.5 / 32, pnl_net: -1234.4, direction: -1 };
    expect(renderCell("entry_price", row, specs)).toBe("110-165");
    expect(renderCell("pnl_net", row, specs)).toBe("-$1,234");
    expect(renderCell("direction", row, specs)).toBe("Short");
  });
});

describe("launcher submission", () => {
  it("refuses an empty market list and a start after the end", () => {
    const { body, errors } = buildSubmission({ ...DEFAULT_FORM, strategy: "ma_crossover", start: "2021-01-01", end: "2020-01-01" }, {});
    expect(body).toBeUndefined();
    expect(errors).toEqual({ markets: "choose at least one market", end: "must not be before the start" });
  });

  it("leaves blank costs and margins to the contract's defaults", () => {
    const { body } = buildSubmission(
      { ...DEFAULT_FORM, markets: ["ES", "ZN"], strategy: "ma_crossover", commission: "2.5", slippageTicks: "1", initialMargin: "" },
      { fast_window: 10 },
    );
    expect(body?.config.markets).toEqual([
      { root: "ES", mode: "continuous", adjustment: "difference", commission: 2.5 },
      { root: "ZN", mode: "continuous", adjustment: "difference", commission: 2.5 },
    ]);
    expect(body?.config.strategy).toEqual({ name: "ma_crossover", params: { fast_window: 10 } });
    expect(body?.config.simulation).toMatchObject({ capital: 1_000_000, slippage_ticks: 1, margin_call: { action: "liquidate_all" } });
    expect(body?.config.start).toBeNull();
  });

  it("rejects a negative commission by name", () => {
    const { errors } = buildSubmission({ ...DEFAULT_FORM, markets: ["ES"], strategy: "x", commission: "-1" }, {});
    expect(errors).toEqual({ commission: "must be at least 0" });
  });
});

describe("sweep parameter grid", () => {
  const trials = [
    { fast: 5, slow: 50, ma: "sma", sharpe: 0.1 },
    { fast: 5, slow: 50, ma: "ema", sharpe: 0.3 },
    { fast: 10, slow: 50, ma: "sma", sharpe: -0.2 },
    { fast: 5, slow: 100, ma: "sma", sharpe: 0.4 },
  ];
  it("finds the swept parameters", () => {
    expect(sweptParameters(trials, ["fast", "slow", "ma"])).toEqual(["fast", "slow", "ma"]);
    expect(sweptParameters([{ a: 1 }, { a: 1 }], ["a"])).toEqual([]);
  });
  it("keeps the best trial of each cell; cells without a trial stay empty", () => {
    expect(paramGrid(trials, "fast", "slow", "sharpe")).toEqual({
      rows: ["5", "10"],
      columns: ["50", "100"],
      values: [
        [0.3, 0.4],
        [-0.2, null],
      ],
    });
    expect(paramGrid(trials, "fast", "slow", "sharpe", false).values[0]?.[0]).toBe(0.1);
  });
});

describe("chart data", () => {
  it("converts ms to seconds, drops gaps and keeps the last of equal seconds", () => {
    expect(toLineData([1000, 1500, 2000, 3000, 2500], [1, 2, null, 4, 5])).toEqual([
      { time: 1, value: 2 },
      { time: 3, value: 4 },
    ]);
  });
  it("colours gains green, losses red, stronger with magnitude", () => {
    expect(heatColor(0.1, 0.1)).toBe("rgba(22, 163, 74, 0.80)");
    expect(heatColor(-0.05, 0.1)).toBe("rgba(220, 38, 38, 0.46)");
    expect(heatColor(null, 0.1)).toBe("transparent");
  });
});
