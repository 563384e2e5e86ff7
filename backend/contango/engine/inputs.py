"""Checking and converting public inputs into the kernels' NamedTuples.

All validation happens here, at the edge, so the kernels can trust their arrays: every error
names the market, the bar (index and timestamp) and what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.kernels.checks_nb import any_infinite_nb, strictly_increasing_nb
from contango.engine.kernels.quiet_nb import days_between_nb
from contango.engine.kernels.state_nb import MarketConsts, SimData, SimParams

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_EMPTY_F = np.empty((0, 0))
_EMPTY_I = np.empty((0, 0), dtype=np.int64)
_NO_DAYS = np.empty(0)  # read-only by contract: no kernel writes SimData arrays


def _where(bars: Bars, t: int, j: int) -> str:
    stamp = np.datetime64(int(bars.ts[t]), "ns")
    return f"market {bars.markets[j]}, bar {t} ({stamp})"


def _check_shape(bars: Bars, name: str, shape: tuple[int, ...]) -> None:
    if shape != (bars.n_bars, bars.n_markets):
        raise ValueError(
            f"{name} has shape {shape}, expected (n_bars, n_markets) = "
            f"({bars.n_bars}, {bars.n_markets})"
        )


def _panel(bars: Bars, name: str, values: object) -> F64:
    """A C-contiguous float64 ``(n, m)`` copy or view of ``values``."""
    array: F64 = np.ascontiguousarray(values, dtype=np.float64)
    _check_shape(bars, name, array.shape)
    return array


def _int_panel(bars: Bars, name: str, values: object) -> I64:
    array: I64 = np.ascontiguousarray(values, dtype=np.int64)
    _check_shape(bars, name, array.shape)
    return array


def check_bars(bars: Bars) -> None:
    """Timestamps strictly increasing; prices panels shaped (n, m); no infinite values."""
    ts = np.asarray(bars.ts)
    if ts.ndim != 1 or ts.shape[0] == 0:
        raise ValueError("bars.ts must be a non-empty 1-d array of int64 nanoseconds")
    if not strictly_increasing_nb(np.ascontiguousarray(ts, dtype=np.int64)):
        bad = int(np.argmax(ts[1:] <= ts[:-1])) + 1
        raise ValueError(
            f"bars.ts must be strictly increasing; bar {bad} is not after bar {bad - 1}"
        )
    if len(set(bars.markets)) != len(bars.markets):
        raise ValueError(f"market names repeat in {bars.markets}")
    for name in ("open", "high", "low", "close", "volume"):
        array = _panel(bars, f"bars.{name}", getattr(bars, name))
        if any_infinite_nb(array.reshape(-1)):
            t, j = np.argwhere(np.isinf(array))[0]
            raise ValueError(f"bars.{name} is infinite at {_where(bars, int(t), int(j))}")


def mean_true_range(bars: Bars, window: int) -> F64:
    """Simple average of the true range over ``window`` bars, NaN until ``window`` are seen."""
    close_prev = np.vstack([np.full((1, bars.n_markets), np.nan), bars.close[:-1]])
    ranges = np.stack(
        [bars.high - bars.low, np.abs(bars.high - close_prev), np.abs(bars.low - close_prev)]
    )
    true_range = np.where(
        np.isnan(ranges).all(axis=0),
        np.nan,
        np.nanmax(np.where(np.isnan(ranges), -np.inf, ranges), axis=0),
    )
    out = np.full_like(true_range, np.nan)
    for j in range(bars.n_markets):
        valid = np.flatnonzero(~np.isnan(true_range[:, j]))
        if valid.size >= window:
            sums = np.cumsum(true_range[valid, j])
            sums[window:] = sums[window:] - sums[:-window]
            out[valid[window - 1 :], j] = sums[window - 1 :] / window
    return out


def _atr_known_before(bars: Bars, config: SimulationConfig, atr: F64 | None) -> F64:
    """ATR of the previous bar, so slippage at bar t uses nothing from bar t."""
    if config.slippage_atr == 0.0:
        return _EMPTY_F
    values = mean_true_range(bars, config.atr_window) if atr is None else _panel(bars, "atr", atr)
    shifted = np.full_like(values, np.nan)
    shifted[1:] = values[:-1]
    return np.ascontiguousarray(shifted)


def _fx_panel(
    bars: Bars, markets: Sequence[MarketSpec], account: str, fx: Mapping[str, F64] | None
) -> tuple[F64, I64]:
    currencies = sorted({s.currency for s in markets if s.currency != account})
    columns = np.full(len(markets), -1, dtype=np.int64)
    if not currencies:
        return np.empty((bars.n_bars, 0)), columns  # never read: every fx_col is -1
    rates = np.empty((bars.n_bars, len(currencies)))
    for c, code in enumerate(currencies):
        if fx is None or code not in fx:
            raise ValueError(
                f"markets trade in {code} but no {code}->{account} FX series was "
                f"given (fx={{'{code}': rates}}, account currency per {code})"
            )
        series = np.asarray(fx[code], dtype=np.float64)
        if series.shape != (bars.n_bars,):
            raise ValueError(
                f"FX series {code} has shape {series.shape}, expected ({bars.n_bars},)"
            )
        bad = ~(np.isfinite(series) & (series > 0))
        if bad.any():
            t = int(np.argmax(bad))
            raise ValueError(
                f"FX series {code} must be positive and finite; bar {t} holds "
                f"{series[t]} (forward-fill rates before the run)"
            )
        rates[:, c] = series
    for j, spec in enumerate(markets):
        if spec.currency != account:
            columns[j] = currencies.index(spec.currency)
    return rates, columns


def _contract_arrays(bars: Bars, panel: ContractPanel | None, mode: str) -> tuple[I64, F64, I64]:
    if mode == "continuous":
        return _EMPTY_I, _EMPTY_F, _EMPTY_I
    if panel is None:
        raise ValueError("contract_mode 'contracts' needs a ContractPanel (contracts=...)")
    contract = _int_panel(bars, "contracts.contract", panel.contract)
    roll_price = _panel(bars, "contracts.roll_price", panel.roll_price)
    expiry = _int_panel(bars, "contracts.expiry_bar", panel.expiry_bar)
    late = (contract >= 0) & (expiry < np.arange(bars.n_bars)[:, None])
    if late.any():
        t, j = (int(v) for v in np.argwhere(late)[0])
        raise ValueError(
            f"contract {contract[t, j]} is active after its expiry bar "
            f"{expiry[t, j]} at {_where(bars, t, j)}"
        )
    for j in range(bars.n_markets):
        active = np.flatnonzero(contract[:, j] >= 0)
        rolls = active[1:][contract[active[1:], j] != contract[active[:-1], j]]
        bad = rolls[~(np.isfinite(roll_price[rolls, j]) & np.isfinite(bars.open[rolls, j]))]
        if bad.size:
            t = int(bad[0])
            raise ValueError(
                f"the roll into contract {contract[t, j]} at {_where(bars, t, j)} "
                "needs the outgoing contract's roll_price and the new open"
            )
    return contract, roll_price, expiry


def _days_between(ts: I64) -> F64:
    """Calendar days since the previous bar (0 on bar 0), in one pass without temporaries."""
    days = np.empty(ts.shape[0])
    days_between_nb(ts, days)
    return days


def build_data(
    bars: Bars,
    markets: Sequence[MarketSpec],
    config: SimulationConfig,
    *,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
    atr: F64 | None = None,
) -> SimData:
    """Validated kernel data for these bars."""
    check_bars(bars)
    if [s.name for s in markets] != list(bars.markets):
        raise ValueError(
            f"market specs {[s.name for s in markets]} do not match the bars' "
            f"markets {list(bars.markets)} (same names, same order)"
        )
    ts = np.ascontiguousarray(bars.ts, dtype=np.int64)
    # Only interest reads the day counts (the kernels, the reference and the sweep all skip
    # them at a zero rate), so a run without interest gets none: even calloc'd zeros cost a
    # millisecond on a million bars once the allocator hands back reused memory.
    days = _days_between(ts) if config.interest_rate != 0.0 else _NO_DAYS
    rates, _ = _fx_panel(bars, markets, config.account_currency, fx)
    contract, roll_price, expiry = _contract_arrays(bars, contracts, config.contract_mode)
    return SimData(
        ts=ts,
        days=days,
        open=_panel(bars, "open", bars.open),
        high=_panel(bars, "high", bars.high),
        low=_panel(bars, "low", bars.low),
        close=_panel(bars, "close", bars.close),
        volume=_panel(bars, "volume", bars.volume),
        fx=rates,
        atr=_atr_known_before(bars, config, atr),
        contract=contract,
        roll_price=roll_price,
        expiry_bar=expiry,
    )


def build_markets(
    bars: Bars,
    markets: Sequence[MarketSpec],
    config: SimulationConfig,
    fx: Mapping[str, F64] | None = None,
) -> MarketConsts:
    """Per-market constants as arrays."""
    _, columns = _fx_panel(bars, markets, config.account_currency, fx)

    def col(values: list[float]) -> F64:
        return np.array(values, dtype=np.float64)

    return MarketConsts(
        point_value=col([s.point_value for s in markets]),
        tick_size=col([s.tick_size for s in markets]),
        fee=col([s.commission + s.exchange_fee for s in markets]),
        initial_margin=col([s.initial_margin for s in markets]),
        maintenance_margin=col([s.maintenance_margin for s in markets]),
        max_contracts=col(
            [np.inf if s.max_contracts is None else s.max_contracts for s in markets]
        ),
        fx_col=columns,
    )


def build_params(config: SimulationConfig) -> SimParams:
    """Scalar parameters in the kernels' types."""
    return SimParams(
        capital=float(config.capital),
        fill_delay=int(config.fill_delay),
        slippage_ticks=float(config.slippage_ticks),
        slippage_atr=float(config.slippage_atr),
        participation=float(config.participation or 0.0),
        carry_remainder=config.remainder == "carry",
        reject_orders=config.order_limits == "reject",
        max_leverage=float(np.inf if config.max_leverage is None else config.max_leverage),
        margin_cap=float(config.margin_cap),
        interest_rate=float(config.interest_rate),
        liquidate_all=config.margin_call.action == "liquidate_all",
        liquidate_at_close=config.margin_call.at == "close",
        contract_mode=config.contract_mode == "contracts",
        delta_mode=config.order_size == "delta",
    )
