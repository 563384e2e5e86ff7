"""The vectorized strategy interface: market data and parameters in, target contracts out.

A vectorized strategy sees the whole panel at once, so it *can* look ahead; the engine fills
targets on the bar after the signal by default (``fill_delay=1``) and the research tools test
strategies for look-ahead by truncating the data. The event-driven interface (``on_bar``) makes
look-ahead impossible by construction instead.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from contango.engine.bars import Bars

F64 = npt.NDArray[np.float64]


class SizingContext(NamedTuple):
    """What a vectorized strategy knows about the account and the contracts it trades.

    Vectorized strategies size from ``capital`` (the starting equity), since the equity path is
    not known until the simulation runs; per-market arrays have shape ``(m,)``.
    """

    capital: float  # starting equity in the account currency
    point_value: F64  # currency per point per contract, in the account currency
    tick_size: F64
    initial_margin: F64  # per contract, in the account currency


class VectorStrategy(Protocol):
    """A strategy for the fast path: returns signed target contracts per bar and market.

    ``targets`` returns a float64 array of shape ``(n, m)``: the number of contracts to hold
    after the bar's signal (positive long, negative short, 0 flat, NaN = leave the position as
    it is). The engine rounds toward zero to whole contracts.
    """

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]]

    def targets(self, bars: Bars, params: BaseModel, sizing: SizingContext) -> F64:
        """Target contracts per bar and market for these parameters."""
        ...
