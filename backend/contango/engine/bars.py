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
