"""Per-bar series rebuilt after a run from its fills: positions and the initial margin held.

The simulator records only equity, cash and exposure per bar. Positions change only through
fills, and the margin requirement follows from the positions, so both are rebuilt here when a
caller first asks for them instead of being written bar by bar: a 3.5 M-bar run then touches
two fewer 28 MB arrays, whose fresh pages the operating system would have to zero.

Both rebuilds repeat the simulator's arithmetic in its order, so the figures are identical to
the ones it would have recorded:

* a fill of ``qty`` contracts moves the position from ``p`` to ``p + qty``. The simulator
  computes ``p - direction * closed`` and then ``0 + side * opened`` when a fill crosses
  zero; negating a float and multiplying it by +/-1 are exact, and rounding is symmetric in
  sign, so both give the same double (a position closed to flat is +0.0 either way);
* the requirement sums ``|p| x initial margin x fx`` over the markets with a position, from
  0.0, in market order, as ``requirement_arr_nb`` does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contango.engine.kernels.account_nb import requirement_arr_nb
from contango.engine.kernels.compile_nb import kernel

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@kernel
def positions_from_fills_nb(bar: I64, market: I64, qty: F64, pos: F64, out: F64) -> None:
    """Contracts held at each close into ``out`` (n, m), from fills in the order they happened.

    ``pos`` (m,) is scratch, zeroed here. A fill belongs to the close of its own bar: every
    fill of bar ``t`` (opens, rolls, stops, close fills, expiries) happens before that bar is
    recorded.
    """
    n, m = out.shape
    for j in range(m):
        pos[j] = 0.0
    k = 0
    n_fills = bar.shape[0]
    for t in range(n):
        while k < n_fills and bar[k] <= t:
            pos[market[k]] += qty[k]
            k += 1
        for j in range(m):
            out[t, j] = pos[j]


@kernel
def margin_from_positions_nb(
    positions: F64, initial_margin: F64, fx: F64, fx_col: I64, out: F64
) -> None:
    """Initial-margin requirement of ``positions`` at each close into ``out`` (n,)."""
    for t in range(positions.shape[0]):
        out[t] = requirement_arr_nb(positions[t], initial_margin, fx, fx_col, t)
