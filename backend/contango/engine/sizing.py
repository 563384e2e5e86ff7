"""Position sizing and risk limits: how many contracts a signal is worth.

Sizing functions return *unsigned* contract counts per bar and market (``(n, m)`` or whatever
shape the inputs broadcast to); a strategy multiplies them by its direction (+1, -1, 0). Limit
functions take *signed* targets and shrink them. Everything is rounded toward zero
(``np.trunc``): a futures position is a whole number of contracts, and rounding toward zero never
takes more risk than asked for. NaN in means NaN out ("no sizing information": the engine then
keeps the position), never a silent zero.

Vectorized strategies size from the starting ``capital`` (see ``SizingContext``): the equity path
is not known before the simulation. Money figures are in the account currency; ``point_value``
is the currency value of a one-point move of one contract (ES 50, CL 1,000).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]
ArrayLike = F64 | float

# Carver's practical ceiling: beyond ~2.5 the correlation estimate is too uncertain to lever on.
MAX_DIVERSIFICATION_MULTIPLIER = 2.5


def _positive(value: float, name: str) -> None:
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _cap(contracts: F64, max_contracts: float | None) -> F64:
    if max_contracts is None:
        return contracts
    if not max_contracts >= 0:
        raise ValueError(f"max_contracts must be >= 0, got {max_contracts!r}")
    return np.minimum(contracts, max_contracts)


def _whole(raw: F64, max_contracts: float | None) -> F64:
    """Invalid (NaN, inf, negative) raw sizes become NaN, the rest are capped and truncated."""
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(raw) & (raw >= 0)
    out = np.where(ok, raw, np.nan)
    return np.trunc(_cap(out, max_contracts))


def fixed_contracts(shape: tuple[int, ...], contracts: float) -> F64:
    """The same whole number of contracts everywhere (``contracts`` is truncated toward zero)."""
    if not contracts >= 0:
        raise ValueError(f"fixed contracts must be >= 0, got {contracts!r}")
    return np.full(shape, float(np.trunc(contracts)))


def vol_target_contracts(
    price: F64,
    annual_vol: F64,
    *,
    point_value: ArrayLike,
    capital: float,
    target_vol: float,
    max_contracts: float | None = None,
) -> F64:
    """Contracts whose annualised P&L volatility is ``target_vol`` of ``capital``.

    ``contracts = target_vol * capital / (price * point_value * annual_vol)``: one contract's
    yearly P&L std is its notional (``price * point_value``) times the return volatility. Rounded
    toward zero and capped at ``max_contracts``. NaN where the price or volatility is missing or
    not positive (zero volatility would ask for infinite size).
    """
    _positive(capital, "capital")
    _positive(target_vol, "target_vol")
    with np.errstate(divide="ignore", invalid="ignore"):
        risk_per_contract = np.asarray(price) * point_value * np.asarray(annual_vol)
        raw = np.where(risk_per_contract > 0, target_vol * capital / risk_per_contract, np.nan)
    return _whole(raw, max_contracts)


def diversification_multiplier(
    correlation: F64 | float,
    weights: F64 | None = None,
    cap: float = MAX_DIVERSIFICATION_MULTIPLIER,
) -> float:
    """``1 / sqrt(w' C w)``: how much to scale up positions each sized for their share of the
    portfolio's risk budget, so that the diversified portfolio reaches the target.

    ``correlation`` is an ``(m, m)`` matrix of the markets' return correlations or one number,
    the average pairwise correlation (then ``C`` has 1 on the diagonal and that number elsewhere).
    Weights default to equal (``1/m``). Negative-definite estimates are floored so the result is
    finite; the result is capped at ``cap`` (2.5 by default).
    """
    if np.ndim(correlation) == 0:
        if weights is None:
            raise ValueError("an average correlation needs the weights to know how many markets")
        w = np.asarray(weights, dtype=np.float64)
        rho = float(np.asarray(correlation))
        if not -1.0 <= rho <= 1.0:
            raise ValueError(f"average correlation must be in [-1, 1], got {rho}")
        corr = np.full((w.shape[0], w.shape[0]), rho)
        np.fill_diagonal(corr, 1.0)
    else:
        corr = np.asarray(correlation, dtype=np.float64)
        m = corr.shape[0]
        w = np.full(m, 1.0 / m) if weights is None else np.asarray(weights, dtype=np.float64)
        if corr.shape != (w.shape[0], w.shape[0]):
            raise ValueError(f"correlation matrix {corr.shape} does not match {w.shape[0]} weights")
    if not np.isclose(w.sum(), 1.0) or np.any(w < 0):
        raise ValueError(f"weights must be >= 0 and sum to 1, got {w.tolist()}")
    portfolio_var = float(w @ corr @ w)
    return float(min(cap, 1.0 / np.sqrt(max(portfolio_var, 1e-12))))


def correlation_matrix(returns: F64, min_periods: int = 20) -> F64:
    """Pairwise correlation of the ``(n, m)`` returns over the bars where both markets have one
    (pandas' pairwise-complete convention); NaN for a pair with fewer than ``min_periods``.

    Pass only returns from *before* the bars you size, or the estimate looks ahead.
    """
    r = np.asarray(returns, dtype=np.float64)
    m = r.shape[1]
    corr = np.eye(m)
    ok = np.isfinite(r)
    for a in range(m):  # pairs of markets, never bars
        for b in range(a + 1, m):
            both = ok[:, a] & ok[:, b]
            value = np.nan
            if both.sum() >= max(min_periods, 2):
                x, y = r[both, a], r[both, b]
                sx, sy = x.std(), y.std()
                if sx > 0 and sy > 0:
                    value = float(np.mean((x - x.mean()) * (y - y.mean())) / (sx * sy))
            corr[a, b] = corr[b, a] = value
    return corr


def average_correlation(corr: F64) -> float:
    """Mean of the off-diagonal entries that are known (the input of the simple multiplier)."""
    m = corr.shape[0]
    off = corr[~np.eye(m, dtype=bool)]
    off = off[np.isfinite(off)]
    if off.size == 0:
        raise ValueError("no pair of markets has a correlation estimate")
    return float(off.mean())


def portfolio_vol_target_contracts(
    price: F64,
    annual_vol: F64,
    *,
    point_value: F64,
    capital: float,
    target_vol: float,
    average_correlation: float,
    weights: F64 | None = None,
    max_contracts: float | None = None,
) -> F64:
    """Vol-target a whole ``(n, m)`` portfolio rather than each market on its own.

    Each market gets ``weights[j]`` of the risk budget (equal by default) and is sized as if it
    alone had to deliver ``target_vol * weights[j]``; because markets are not perfectly
    correlated the sum then runs below target, so every position is scaled by the
    diversification multiplier ``1 / sqrt(w' C w)`` computed from ``average_correlation`` (the
    simple constant-correlation model; a fixed parameter rather than an estimate from the same
    data, so no look-ahead). With ``m`` equally weighted markets of correlation ``rho`` the
    multiplier is ``1 / sqrt(1/m + (1 - 1/m) * rho)``.
    """
    m = price.shape[-1]
    w = np.full(m, 1.0 / m) if weights is None else np.asarray(weights, dtype=np.float64)
    multiplier = diversification_multiplier(average_correlation, w)
    _positive(capital, "capital")
    _positive(target_vol, "target_vol")
    with np.errstate(divide="ignore", invalid="ignore"):
        risk_per_contract = price * point_value * annual_vol
        budget = target_vol * capital * w * multiplier
        raw = np.where(risk_per_contract > 0, budget / risk_per_contract, np.nan)
    return _whole(raw, max_contracts)


def atr_risk_contracts(
    atr: F64,
    *,
    point_value: ArrayLike,
    capital: float,
    risk_fraction: float,
    atr_multiple: float,
    max_contracts: float | None = None,
) -> F64:
    """Contracts such that a stop ``atr_multiple`` ATRs away loses ``risk_fraction`` of capital.

    ``contracts = floor(risk_fraction * capital / (atr_multiple * ATR * point_value))``: the loss
    at the stop for one contract is ``atr_multiple * ATR`` points times the point value.
    """
    _positive(capital, "capital")
    _positive(atr_multiple, "atr_multiple")
    if not 0 < risk_fraction <= 1:
        raise ValueError(f"risk_fraction must be in (0, 1], got {risk_fraction!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        loss_per_contract = atr_multiple * np.asarray(atr) * point_value
        raw = np.where(loss_per_contract > 0, risk_fraction * capital / loss_per_contract, np.nan)
    return _whole(raw, max_contracts)


def kelly_fraction(returns: F64, cap: float = 1.0, fraction: float = 0.5) -> float:
    """Capped fractional Kelly leverage from a sample of per-period returns.

    Full Kelly for small returns is ``mean / variance`` (the growth-optimal leverage); it is
    clipped to ``[-cap, cap]`` because the estimate is noisy, then multiplied by ``fraction``
    (half Kelly by default). Needs at least two finite returns; zero variance gives 0.
    """
    r = np.asarray(returns, dtype=np.float64)
    r = r[np.isfinite(r)]
    if r.size < 2:
        raise ValueError(f"Kelly needs at least 2 finite returns, got {r.size}")
    if not cap > 0 or not 0 < fraction <= 1:
        raise ValueError(f"need cap > 0 and fraction in (0, 1], got cap={cap}, fraction={fraction}")
    var = float(r.var(ddof=1))
    full = float(r.mean()) / var if var > 0 else 0.0
    return float(np.clip(full, -cap, cap) * fraction)


def leverage_contracts(
    leverage: ArrayLike, price: F64, point_value: ArrayLike, capital: float
) -> F64:
    """Signed contracts whose notional is ``leverage * capital`` (e.g. a Kelly fraction)."""
    _positive(capital, "capital")
    with np.errstate(divide="ignore", invalid="ignore"):
        notional = np.asarray(price) * point_value
        raw = np.where(notional > 0, np.asarray(leverage) * capital / notional, np.nan)
    return np.trunc(raw)


# ---------------------------------------------------------------- limits on signed targets
#
# The limits treat a NaN target ("keep the position") as zero exposure: they can only cap what
# they see, so a strategy that wants the limits to bind every bar should emit explicit targets.


def cap_contracts(targets: F64, max_contracts: ArrayLike) -> F64:
    """Clip signed targets to ``[-max, max]`` per market (a scalar or an ``(m,)`` array)."""
    limit = np.asarray(max_contracts, dtype=np.float64)
    if np.any(limit < 0):
        raise ValueError(f"max contracts must be >= 0, got {limit.tolist()}")
    return np.trunc(np.clip(targets, -limit, limit))


def _scale_rows(targets: F64, used: F64, budget: float) -> F64:
    """Scale each bar's targets down by ``budget / used`` where ``used`` exceeds the budget."""
    # Divide only where the budget binds: elsewhere ``used`` may be zero or subnormal.
    factor = np.ones_like(used)
    np.divide(budget, used, out=factor, where=used > budget)
    return np.trunc(targets * factor[..., None])


def cap_gross_leverage(
    targets: F64, price: F64, point_value: F64, capital: float, max_leverage: float
) -> F64:
    """Shrink each bar's ``(m,)`` targets pro rata so that gross notional
    ``sum(|contracts| * price * point_value) <= max_leverage * capital``.

    Scaling keeps the portfolio's mix; truncation toward zero keeps the bound exact.
    """
    _positive(capital, "capital")
    if not max_leverage >= 0:
        raise ValueError(f"max_leverage must be >= 0, got {max_leverage!r}")
    gross = np.nansum(np.abs(targets) * np.abs(price) * point_value, axis=-1)
    return _scale_rows(targets, gross, max_leverage * capital)


def cap_margin_usage(
    targets: F64, initial_margin: F64, capital: float, max_margin_fraction: float
) -> F64:
    """Shrink each bar's targets pro rata so that
    ``sum(|contracts| * initial_margin) <= max_margin_fraction * capital``."""
    _positive(capital, "capital")
    if not max_margin_fraction >= 0:
        raise ValueError(f"max_margin_fraction must be >= 0, got {max_margin_fraction!r}")
    used = np.nansum(np.abs(targets) * initial_margin, axis=-1)
    return _scale_rows(targets, used, max_margin_fraction * capital)
