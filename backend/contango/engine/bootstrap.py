"""Bootstrap confidence intervals for a backtest's Sharpe ratio and maximum drawdown.

One backtest is one draw from the market's history; the bootstrap asks how different the
figures could have been had the same kind of returns come in another order. The stationary
bootstrap resamples blocks of consecutive bar returns, so volatility clustering survives the
reshuffle (an i.i.d. resample would make drawdowns look too shallow).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple, cast

import numpy as np
import numpy.typing as npt

from contango.engine.kernels.metrics_nb import stationary_bootstrap_nb
from contango.engine.metrics import bar_returns, json_safe, max_drawdown_fraction, sharpe_ratio

F64 = npt.NDArray[np.float64]


class Interval(NamedTuple):
    """A point estimate and its confidence interval."""

    estimate: float
    lower: float
    upper: float


@dataclass(frozen=True, kw_only=True)
class BootstrapResult:
    """Percentile confidence intervals from a stationary bootstrap of bar returns."""

    method: str
    confidence: float
    n_resamples: int
    mean_block_length: float
    sharpe: Interval
    max_drawdown: Interval

    def as_json_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (intervals as lists); undefined figures become ``None``."""
        return cast("dict[str, Any]", json_safe(asdict(self)))


_CHUNK = 256  # resamples drawn at a time; fixed so results do not depend on memory


def bootstrap_metrics(
    equity: F64,
    rng: np.random.Generator,
    *,
    periods_per_year: float,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    mean_block_length: float | None = None,
    risk_free_rate: float = 0.0,
) -> BootstrapResult:
    """Confidence intervals for the Sharpe ratio and the max drawdown.

    Method: the stationary bootstrap of Politis & Romano (1994). Each resample strings together
    blocks of consecutive bar returns starting at uniform random bars, with geometric block
    lengths of mean ``mean_block_length`` (default ``n ** (1/3)``), wrapping round at the end;
    blocks keep the short-range dependence (volatility clustering) an i.i.d. resample would
    destroy. Sharpe and the max drawdown of the compounded resampled path are computed per
    resample and the interval is the ``(1 - confidence) / 2`` and ``(1 + confidence) / 2``
    percentiles (the percentile method). Draws come only from ``rng``: same seed, same result.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    r = bar_returns(np.asarray(equity, dtype=np.float64))
    r = r[np.isfinite(r)]
    n = r.shape[0]
    if n < 3:
        raise ValueError(f"the bootstrap needs at least 3 finite returns, got {n}")
    block = float(n ** (1.0 / 3.0)) if mean_block_length is None else float(mean_block_length)
    if not 1.0 <= block <= n:
        raise ValueError(f"mean_block_length must be in [1, {n}], got {block}")
    excess = r - ((1.0 + risk_free_rate) ** (1.0 / periods_per_year) - 1.0)
    stats = []
    for first in range(0, n_resamples, _CHUNK):
        size = min(_CHUNK, n_resamples - first)
        new_block = rng.random((size, n)) < 1.0 / block
        starts = rng.integers(0, n, size=(size, n), dtype=np.int64)
        stats.append(stationary_bootstrap_nb(r, excess, new_block, starts, periods_per_year))
    draws = np.concatenate(stats)
    tails = [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0]
    sharpe_lo, sharpe_hi = np.nanquantile(draws[:, 0], tails)
    dd_lo, dd_hi = np.quantile(draws[:, 1], tails)
    path = np.concatenate(([1.0], np.cumprod(1.0 + r)))
    return BootstrapResult(
        method="stationary bootstrap (Politis-Romano), percentile intervals",
        confidence=confidence,
        n_resamples=n_resamples,
        mean_block_length=block,
        sharpe=Interval(sharpe_ratio(excess, periods_per_year), float(sharpe_lo), float(sharpe_hi)),
        max_drawdown=Interval(max_drawdown_fraction(path), float(dd_lo), float(dd_hi)),
    )
