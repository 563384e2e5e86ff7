"""The outcome of one backtest: per-bar account series, fills, trades, rolls and provenance.

Tables come out as pandas frames with timestamps and names; the raw NumPy records stay
available for fast checks. :func:`write_result` saves a folder of Parquet tables plus a JSON
summary; everything needed to reproduce the run (config and its hash, engine version, seed,
data versions) travels with the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.series_nb import margin_from_positions_nb, positions_from_fills_nb

if TYPE_CHECKING:  # pandas and pyarrow load on first use: a backtest alone never needs them
    import pandas as pd

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Records = npt.NDArray[np.void]


class MarginBasis(NamedTuple):
    """What the initial margin held at each close is rebuilt from, besides the positions."""

    initial_margin: F64  # (m,) per contract, in each market's own currency
    fx: F64  # (n, k) account currency per unit of currency k, as the simulator used it
    fx_col: I64  # (m,) column of ``fx`` per market, -1 for the account currency


@dataclass(frozen=True, kw_only=True, eq=False)
class BacktestResult:
    """Per-bar series have shape ``(n,)`` (positions ``(n, m)``); money in account currency.

    ``positions`` and ``margin`` are rebuilt from the fills the first time they are read
    (bit for bit what the simulator held, see ``series_nb``): most callers never read them,
    and recording them bar by bar made long runs slower.
    """

    ts: I64
    markets: tuple[str, ...]
    equity: F64
    cash: F64
    exposure: F64  # gross notional at each close
    margin_basis: MarginBasis
    fills: Records
    trades: Records
    rejections: Records
    margin_calls: Records
    rolls: Records
    interest: float
    capital: float
    account_currency: str
    config: dict[str, Any]
    config_hash: str
    engine_version: str
    seed: int
    data_versions: dict[str, str] = field(default_factory=dict)
    contract_names: tuple[tuple[str, ...], ...] = ()
    orders: pd.DataFrame | None = None  # event-driven runs: the order book at the end

    @cached_property
    def positions(self) -> F64:
        """Signed contracts held at each close, ``(n, m)``."""
        out = np.empty((self.ts.shape[0], len(self.markets)))
        fills = self.fills
        positions_from_fills_nb(
            np.ascontiguousarray(fills["bar"]),
            np.ascontiguousarray(fills["market"]),
            np.ascontiguousarray(fills["qty"]),
            np.empty(len(self.markets)),
            out,
        )
        out.flags.writeable = False  # cached and shared by every later read
        return out

    @cached_property
    def margin(self) -> F64:
        """Initial-margin requirement of the positions held at each close, ``(n,)``."""
        basis = self.margin_basis
        out = np.empty(self.ts.shape[0])
        margin_from_positions_nb(self.positions, basis.initial_margin, basis.fx, basis.fx_col, out)
        out.flags.writeable = False
        return out

    def _stamp(self, bars: npt.NDArray[np.int64]) -> pd.Series:
        import pandas as pd  # loaded on first use

        return pd.Series(pd.to_datetime(self.ts[bars], utc=True))

    def _market(self, index: npt.NDArray[np.int64]) -> list[str]:
        return [self.markets[int(i)] for i in index]

    def _contract(self, market: I64, contract: I64) -> list[str]:
        if not self.contract_names:
            return ["" if c < 0 else str(int(c)) for c in contract]
        names = self.contract_names
        return [
            "" if c < 0 else names[int(j)][int(c)] for j, c in zip(market, contract, strict=True)
        ]

    def account_frame(self) -> pd.DataFrame:
        """Equity, cash, margin and exposure per bar, indexed by timestamp."""
        import pandas as pd  # loaded on first use

        index = pd.DatetimeIndex(pd.to_datetime(self.ts, utc=True), name="ts")
        frame = pd.DataFrame(
            {
                "equity": self.equity,
                "cash": self.cash,
                "margin": self.margin,
                "exposure": self.exposure,
            },
            index=index,
        )
        frame["margin_usage"] = np.divide(
            self.margin, self.equity, out=np.full_like(self.margin, np.nan), where=self.equity > 0
        )
        return frame

    def positions_frame(self) -> pd.DataFrame:
        """Signed contracts held at each close, one column per market."""
        import pandas as pd  # loaded on first use

        index = pd.DatetimeIndex(pd.to_datetime(self.ts, utc=True), name="ts")
        return pd.DataFrame(self.positions, index=index, columns=list(self.markets))

    def fills_frame(self) -> pd.DataFrame:
        """One row per execution."""
        import pandas as pd  # loaded on first use

        f = self.fills
        return pd.DataFrame(
            {
                "ts": self._stamp(f["bar"]),
                "bar": f["bar"],
                "market": self._market(f["market"]),
                "contract": self._contract(f["market"], f["contract"]),
                "qty": f["qty"],
                "price": f["price"],
                "fees": f["fees"],
                "slippage": f["slippage"],
                "fx": f["fx"],
                "reason": [rec.EXIT_REASONS[int(r)] for r in f["reason"]],
                "order_id": f["order_id"],
            }
        )

    def trades_frame(self) -> pd.DataFrame:
        """One row per round trip (flat to flat, or still open at the end)."""
        import pandas as pd  # loaded on first use

        t = self.trades
        return pd.DataFrame(
            {
                "market": self._market(t["market"]),
                "contract": self._contract(t["market"], t["contract"]),
                "direction": t["direction"],
                "entry_ts": self._stamp(t["entry_bar"]),
                "exit_ts": self._stamp(t["exit_bar"]),
                "entry_bar": t["entry_bar"],
                "exit_bar": t["exit_bar"],
                "quantity": t["quantity"],
                "entry_price": t["entry_price"],
                "exit_price": t["exit_price"],
                "pnl_gross": t["pnl_gross"],
                "fees": t["fees"],
                "slippage": t["slippage"],
                "pnl_net": t["pnl_net"],
                "mae": t["mae"],
                "mfe": t["mfe"],
                "bars_held": t["exit_bar"] - t["entry_bar"],
                "exit_reason": [rec.EXIT_REASONS[int(r)] for r in t["exit_reason"]],
                "is_open": t["is_open"].astype(bool),
            }
        )

    def rolls_frame(self) -> pd.DataFrame:
        """The roll report: each roll's legs, costs and the P&L closed by it."""
        import pandas as pd  # loaded on first use

        r = self.rolls
        return pd.DataFrame(
            {
                "ts": self._stamp(r["bar"]),
                "bar": r["bar"],
                "market": self._market(r["market"]),
                "from_contract": self._contract(r["market"], r["from_contract"]),
                "to_contract": self._contract(r["market"], r["to_contract"]),
                "qty": r["qty"],
                "exit_price": r["exit_price"],
                "entry_price": r["entry_price"],
                "fees": r["fees"],
                "slippage": r["slippage"],
                "closed_pnl": r["closed_pnl"],
            }
        )

    def rejections_frame(self) -> pd.DataFrame:
        """Orders trimmed or refused at order time, and why."""
        import pandas as pd  # loaded on first use

        r = self.rejections
        return pd.DataFrame(
            {
                "ts": self._stamp(r["bar"]),
                "bar": r["bar"],
                "market": self._market(r["market"]),
                "order_id": r["order_id"],
                "requested": r["requested"],
                "allowed": r["allowed"],
                "reason": [rec.REJECT_REASONS[int(x)] for x in r["reason"]],
            }
        )

    def margin_calls_frame(self) -> pd.DataFrame:
        """Closes at which equity fell below the maintenance requirement."""
        import pandas as pd  # loaded on first use

        c = self.margin_calls
        return pd.DataFrame(
            {
                "ts": self._stamp(c["bar"]),
                "bar": c["bar"],
                "equity": c["equity"],
                "maintenance": c["maintenance"],
                "initial": c["initial"],
            }
        )

    def summary(self) -> dict[str, Any]:
        """Provenance and headline figures (JSON-safe)."""
        import pandas as pd  # loaded on first use

        return {
            "engine_version": self.engine_version,
            "config_hash": self.config_hash,
            "seed": self.seed,
            "data_versions": dict(self.data_versions),
            "markets": list(self.markets),
            "account_currency": self.account_currency,
            "capital": self.capital,
            "final_equity": float(self.equity[-1]),
            "interest": self.interest,
            "n_bars": int(self.ts.shape[0]),
            "n_fills": int(self.fills.shape[0]),
            "n_trades": int(self.trades.shape[0]),
            "n_rolls": int(self.rolls.shape[0]),
            "n_rejections": int(self.rejections.shape[0]),
            "n_margin_calls": int(self.margin_calls.shape[0]),
            "start": str(pd.Timestamp(int(self.ts[0]), tz="UTC")),
            "end": str(pd.Timestamp(int(self.ts[-1]), tz="UTC")),
        }


def write_result(
    result: BacktestResult, folder: Path, metrics: dict[str, Any] | None = None
) -> Path:
    """Write ``account``, ``positions``, ``fills``, ``trades``, ``rolls``, ``rejections``,
    ``margin_calls`` as Parquet and ``result.json`` (summary, config, metrics) to ``folder``."""
    import pyarrow as pa  # loaded on first use
    import pyarrow.parquet as pq

    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "account": result.account_frame().reset_index(),
        "positions": result.positions_frame().reset_index(),
        "fills": result.fills_frame(),
        "trades": result.trades_frame(),
        "rolls": result.rolls_frame(),
        "rejections": result.rejections_frame(),
        "margin_calls": result.margin_calls_frame(),
    }
    if result.orders is not None:
        tables["orders"] = result.orders
    for name, frame in tables.items():
        pq.write_table(
            pa.Table.from_pandas(frame, preserve_index=False), folder / f"{name}.parquet"
        )
    document = {"summary": result.summary(), "config": result.config, "metrics": metrics or {}}
    (folder / "result.json").write_text(
        json.dumps(document, indent=2, sort_keys=True, default=_plain) + "\n", encoding="utf-8"
    )
    return folder


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
