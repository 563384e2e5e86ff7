"""The random processes behind a sample market: stochastic volatility, spot, carry, daily OHLC.

Every process runs on a fixed grid of weekdays starting at :data:`EPOCH`, and its random draws
are keyed by (seed, market, purpose, calendar year). A day's price therefore does not depend on
the window asked for: the 1-minute sample of the last quarter lines up with the twenty-year
daily sample, and extending the end date leaves the earlier history unchanged. Exchange
holidays are weekdays without a bar; their move shows up in the next session's opening gap, as
it does in real data.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from contango.data.samples.profiles import MarketProfile

F64 = npt.NDArray[np.float64]
Days = npt.NDArray[np.datetime64]

EPOCH = date(1980, 1, 1)
REFERENCE = date(2025, 12, 31)  # the date at which a profile's ``level`` applies
TRADING_DAYS = 252.0
_EPOCH64 = np.datetime64(EPOCH.isoformat(), "D")
_REFERENCE64 = np.datetime64(REFERENCE.isoformat(), "D")
# Largest number of steps of an AR(1) solved in closed form at once: phi**-block must stay far
# from overflow (and precision loss) however fast the process mean-reverts.
_MAX_DECAY_PER_BLOCK = 30.0


def stable_key(*parts: object) -> int:
    """A 64-bit integer from ``parts`` that is the same on every machine and Python run.

    Python's ``hash()`` of a string changes between processes; SHA-256 does not.
    """
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:8], "little")


def rng_for(seed: int, *parts: object) -> np.random.Generator:
    """A generator seeded by ``seed`` and a stable key of ``parts`` (market, purpose, year)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stable_key(*parts)])))


def weekdays(end: date) -> Days:
    """Every Monday-to-Friday from :data:`EPOCH` to ``end`` inclusive, as ``datetime64[D]``."""
    if end < EPOCH:
        raise ValueError(f"sample end {end} is before the generator's epoch {EPOCH}")
    last = np.datetime64(end.isoformat(), "D") + 1
    days = np.arange(_EPOCH64, last, dtype="datetime64[D]")
    return days[np.is_busday(days)]


def yearly_draws(
    seed: int, root: str, purpose: str, days: Days, width: int, *, uniform: bool = False
) -> F64:
    """Standard normals (or uniforms on [0, 1)) of shape ``(len(days), width)``, by year.

    Each calendar year has its own stream sized for every weekday of that year, so the draws
    of a day depend on the day and not on where the window ends.
    """
    years = days.astype("datetime64[Y]").astype(np.int64) + 1970
    out = np.empty((days.shape[0], width), dtype=np.float64)
    for year in np.unique(years):  # one draw per calendar year, not per bar
        rows = np.flatnonzero(years == year)
        rng = rng_for(seed, root, purpose, int(year))
        block = rng.random((262, width)) if uniform else rng.standard_normal((262, width))
        out[rows] = block[: rows.shape[0]]
    return out


def ar1(innovations: F64, phi: float, x0: float) -> F64:
    """``x[t] = phi * x[t-1] + innovations[t]`` with ``x[-1] = x0``, without a loop over bars.

    Within a block, ``x[t] = phi**(t+1) * (x0 + sum_{s<=t} phi**-(s+1) * e[s])``; blocks are
    short enough that ``phi**-t`` cannot overflow, and the state is carried across blocks.
    """
    n = innovations.shape[0]
    out = np.empty(n, dtype=np.float64)
    if phi <= 0.0 or phi >= 1.0:
        raise ValueError(f"AR(1) coefficient must be in (0, 1), got {phi}")
    block = max(1, int(_MAX_DECAY_PER_BLOCK / -math.log(phi)))
    state = x0
    for lo in range(0, n, block):  # a handful of blocks, each fully vectorised
        e = innovations[lo : lo + block]
        powers = phi ** np.arange(1, e.shape[0] + 1, dtype=np.float64)
        out[lo : lo + e.shape[0]] = powers * (state + np.cumsum(e / powers))
        state = float(out[lo + e.shape[0] - 1])
    return out


def unit_ar1(shocks: F64, half_life_days: float) -> F64:
    """A stationary AR(1) with unit variance, driven by standard normal ``shocks``.

    The first shock sets the starting state so the process is stationary from day one.
    """
    phi = 0.5 ** (1.0 / half_life_days)
    scale = math.sqrt(1.0 - phi * phi)
    start = float(shocks[0]) if shocks.size else 0.0
    return np.concatenate([shocks[:1], ar1(shocks[1:] * scale, phi, start)])


class LatentDaily(NamedTuple):
    """One market's spot-like price on every weekday of the grid, plus its daily volatility.

    ``open``/``high``/``low``/``close`` are prices for immediate delivery; a contract's bar is
    this bar times the contract's carry factor for the day. ``carry`` is annualised.
    """

    days: Days
    open: F64
    high: F64
    low: F64
    close: F64
    sigma: F64  # daily volatility of log price
    carry: F64
    overnight_share: float  # share of the daily variance in the gap from the previous close


def years_from_reference(days: Days) -> F64:
    """Signed years between each day and :data:`REFERENCE` (negative before it)."""
    return (days - _REFERENCE64).astype(np.float64) / 365.25


def latent_daily(
    profile: MarketProfile, level: float, root: str, seed: int, end: date
) -> LatentDaily:
    """Simulate the spot, its stochastic volatility and the carry from the epoch to ``end``."""
    days = weekdays(end)
    # Normal streams: vol shock, price shock, carry shock, overnight gap.
    z = yearly_draws(seed, root, "latent", days, 4)
    u = yearly_draws(seed, root, "extremes", days, 2, uniform=True)
    # The first row is ignored by unit_ar1 as a shock and used as its starting state.
    log_vol = profile.vol_of_vol * unit_ar1(z[:, 0], profile.vol_half_life_days)
    # Scaled so that the root-mean-square volatility (what realised volatility measures) is
    # the profile's annual figure: E[exp(2 s x)] = exp(2 s^2) for x ~ N(0, 1).
    annual = profile.annual_vol * np.exp(log_vol - profile.vol_of_vol**2)
    sigma = annual / math.sqrt(TRADING_DAYS)

    shocks = sigma * z[:, 1]
    # Log price mean-reverts towards a line through `level` at the reference date.
    phi = math.exp(-profile.reversion / TRADING_DAYS)
    deviation = ar1(shocks, phi, 0.0)
    anchor = math.log(level) + profile.trend * years_from_reference(days)
    log_close = anchor + deviation

    g = profile.overnight_share
    session, up, down = split_session(shocks, sigma * sigma, g, z[:, 3], u)
    log_open = log_close - session

    rho = profile.carry_spot_corr
    carry_shock = rho * z[:, 1] + math.sqrt(1.0 - rho * rho) * z[:, 2]
    carry = profile.carry_mean + profile.carry_sd * unit_ar1(
        carry_shock, profile.carry_half_life_days
    )
    return LatentDaily(
        days=days,
        open=np.exp(log_open),
        high=np.exp(log_open + up),
        low=np.exp(log_open + down),
        close=np.exp(log_close),
        sigma=sigma,
        carry=carry,
        overnight_share=g,
    )


def split_session(shocks: F64, var: F64, g: float, z: F64, u: F64) -> tuple[F64, F64, F64]:
    """Split each day's log move into overnight gap and session, then draw the session's
    extremes. Returns the session move and the high and low relative to the open.

    Given the day's move ``shocks`` (variance ``var``), the gap is ``g`` of it plus an
    independent part, so the gap has variance ``g var``, the session ``(1 - g) var``, and the
    two are independent (a Brownian motion split at an interior time).
    """
    gap = g * shocks + np.sqrt(g * (1.0 - g) * var) * z
    session = shocks - gap
    session_var = np.maximum(var * (1.0 - g), 1e-18)
    # Extremes of a Brownian bridge from open to close with the session's variance:
    # P(max > m) = exp(-2 m (m - b) / v) for m >= max(0, b), sampled by inversion.
    u_hi = 1.0 - u[:, 0]  # in (0, 1]: log(u) is finite
    u_lo = 1.0 - u[:, 1]
    b = session
    up = 0.5 * (b + np.sqrt(b * b - 2.0 * session_var * np.log(u_hi)))
    down = 0.5 * (b - np.sqrt(b * b - 2.0 * session_var * np.log(u_lo)))
    return session, up, down
