"""The market panel a strategy sees: bars of several markets aligned on one time index."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class Bars(NamedTuple):
    """``n`` bars x ``m`` markets, aligned on ``ts``; NaN where a market has no bar.

    A market without a bar at a timestamp (a holiday on its exchange, a gap in the data) must
    never be filled: the engine refuses fills there, so holes are handled by rule.
    ``next_close`` is the close of the next contract in the chain (for carry and spread
    strategies) and is ``None`` when the data has no second contract.
    """

    ts: I64  # (n,) int64 nanoseconds since the epoch, UTC, strictly increasing
    markets: tuple[str, ...]  # (m,) market names, e.g. ("ES", "CL")
    open: F64  # (n, m)
    high: F64  # (n, m)
    low: F64  # (n, m)
    close: F64  # (n, m)
    volume: F64  # (n, m)
    next_close: F64 | None = None  # (n, m) or None

    @property
    def n_bars(self) -> int:
        """Number of timestamps."""
        return int(self.ts.shape[0])

    @property
    def n_markets(self) -> int:
        """Number of markets."""
        return len(self.markets)


class ContractPanel(NamedTuple):
    """Which actual contract each market trades on each bar (actual-contract mode).

    In this mode the Bars panel holds the raw prices of the *active* contract. On a roll bar
    (the first bar whose contract differs from the previous one with data) the simulator closes
    the position in the outgoing contract at ``roll_price`` (that contract's open on the roll
    bar) and re-opens it in the new contract at the bar's open. ``expiry_bar`` is the last bar
    the contract active at ``t`` may be held; a position still in it is closed at that bar's
    close. The data layer's continuous builder gives ``contract`` per bar and the roll schedule.
    """

    contract: I64  # (n, m) contract index per bar, -1 where the market has no bar
    roll_price: F64  # (n, m) the outgoing contract's open on roll bars, NaN elsewhere
    expiry_bar: I64  # (n, m) last bar index the contract active at t may be held
    names: tuple[tuple[str, ...], ...] = ()  # per market: symbol of each contract index
