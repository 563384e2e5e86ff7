"""Input checks that read each array once and allocate nothing.

``np.isinf(panel).any()`` writes a boolean panel before reducing it; on millions of bars these
loops are about twice as fast. They only say whether something is wrong: the caller finds
where with NumPy on the (rare) failing input, to word the error.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from contango.engine.kernels.compile_nb import kernel

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


@kernel
def any_infinite_nb(values: F64) -> bool:
    """True when a 1-d array holds +inf or -inf (NaN is allowed: a missing bar)."""
    found = False
    for i in range(values.shape[0]):
        found |= abs(values[i]) == math.inf  # no early exit: the loop vectorizes
    return found


@kernel
def strictly_increasing_nb(ts: I64) -> bool:
    """True when every timestamp is after the previous one."""
    ok = True
    for i in range(1, ts.shape[0]):
        ok &= ts[i] > ts[i - 1]
    return ok
