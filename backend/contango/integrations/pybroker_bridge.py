"""PyBroker as a second opinion on Contango's futures engine: prices, settings and isolation.

PyBroker is an equities backtester: a share has no point value, buying one costs its full
price in cash, and there is no futures margin. The bridge makes one PyBroker *share* stand for
one futures *contract* by quoting every price in currency per contract::

    pybroker_price = (price_in_points + price_offset) * point_value

so ES at 4,500.25 points becomes 225,012.50 per "share", and a one-point move of one share is
worth $50, exactly as for one contract. What follows from that choice:

* P&L per contract is right: ``(exit - entry) * shares`` in scaled prices is
  ``(exit - entry) * point_value * contracts``. The offset cancels in every difference.
* Fees: ``FeeMode.PER_SHARE`` with ``fee_amount`` = commission + exchange fee is Contango's
  per-contract, per-side fee. ``ORDER_PERCENT`` fees would be a share of the *scaled* price,
  which includes the offset and is a notional, not a futures fee: it is never used here.
* Slippage given in currency per share is currency per contract; PyBroker's percentage
  slippage models would act on the offset price too. The bridge maps only zero slippage.
* PyBroker refuses fills at prices <= 0, and back-adjusted series can go negative (CL in
  April 2020, or any long difference-adjusted history). ``price_offset`` lifts the whole series
  by a whole number of points so every price is positive; P&L is unchanged. PyBroker's
  percentage figures per trade (``return_pct``) are returns on the full notional (on the lifted
  price when the offset is not 0), not on margin, so they mean little for futures; Contango's
  metrics, computed from account equity, are the ones to read.
* Capital: PyBroker's cash account pays the full scaled notional for a long and posts it as
  collateral for a short; it has no initial or maintenance margin and no margin calls. The
  starting cash must exceed the largest notional held, or PyBroker silently trims orders.

PyBroker keeps its settings (logger, caches, registered indicators) in a process-wide
singleton. :func:`isolated_scope` installs a fresh one for each run, with its disk caches off
(so nothing is written under the working directory or the home folder) and its logging silent,
and puts the caller's scope back afterwards.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from contango.engine.config import MarketSpec, SimulationConfig

with warnings.catch_warnings():
    # PyBroker imports its Alpaca data source at import time, which imports a deprecated
    # websockets module; the warning concerns code the bridge never runs (no network data).
    warnings.filterwarnings(
        "ignore", message=r"websockets\.legacy is deprecated", category=DeprecationWarning
    )
    import pybroker
    from pybroker.common import FeeInfo, FeeMode, PositionMode
    from pybroker.config import StrategyConfig
    from pybroker.scope import StaticScope

__all__ = [
    "FRAME_COLUMNS",
    "PYBROKER_VERSION",
    "PerContractFees",
    "PointValueScaling",
    "UnsupportedSettingError",
    "auto_price_offset",
    "equivalent_config",
    "isolated_scope",
    "pybroker",
    "pybroker_frame",
    "utc_naive",
    "utc_ns",
]

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_Scope: Any = StaticScope  # PyBroker's scope API is untyped

PYBROKER_VERSION: str = pybroker.__version__
FRAME_COLUMNS = ("symbol", "date", "open", "high", "low", "close", "volume")


class UnsupportedSettingError(ValueError):
    """A Contango setting that PyBroker cannot express exactly; names the setting."""


@contextmanager
def isolated_scope() -> Iterator[None]:
    """Run PyBroker work in a fresh, silent, cache-free scope; restore the caller's afterwards.

    Strategies and data sources capture the scope when they are built, so build them inside.
    """
    previous = _Scope.instance()
    scope = _Scope()  # every cache is None: nothing is written to disk
    scope.logger.disable()
    scope.logger.disable_progress_bar()
    _Scope.set_instance(scope)
    try:
        with warnings.catch_warnings():
            # PyBroker's own calls into pandas raise deprecation notices (e.g. ``inplace=``);
            # they are PyBroker's to fix and do not change results. Only warnings attributed
            # to PyBroker's modules are silenced: the caller's stay as configured.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pybroker\.")
            warnings.filterwarnings("ignore", category=FutureWarning, module=r"pybroker\.")
            yield
    finally:
        _Scope.set_instance(previous)


@dataclass(frozen=True, kw_only=True)
class PointValueScaling:
    """How one market's prices in points map to PyBroker prices in currency per contract."""

    point_value: float
    price_offset: float = 0.0  # points added before scaling, so that every price is positive

    def __post_init__(self) -> None:
        if not (math.isfinite(self.point_value) and self.point_value > 0):
            raise ValueError(f"point_value must be a positive number, got {self.point_value}")
        if not math.isfinite(self.price_offset):
            raise ValueError(f"price_offset must be finite, got {self.price_offset}")

    def to_pybroker(self, points: F64) -> F64:
        """Points -> currency per contract (offset included)."""
        return (np.asarray(points, dtype=np.float64) + self.price_offset) * self.point_value

    def to_points(self, price: F64) -> F64:
        """Currency per contract (offset included) -> points."""
        return np.asarray(price, dtype=np.float64) / self.point_value - self.price_offset


def auto_price_offset(low: F64) -> float:
    """Whole points to add so the lowest low is at least 1 point; 0 when all lows are positive.

    A whole number of points is a whole number of ticks for every listed tick size, so lifted
    prices stay on the tick grid.
    """
    lowest = float(np.nanmin(low))
    return 0.0 if lowest > 0 else float(math.ceil(-lowest) + 1)


def utc_naive(ts: I64) -> pd.DatetimeIndex:
    """Contango timestamps (int64 ns UTC) as the naive UTC datetimes PyBroker compares with."""
    return pd.DatetimeIndex(pd.to_datetime(np.asarray(ts, dtype=np.int64), unit="ns"))


def utc_ns(dates: pd.Series | pd.DatetimeIndex) -> I64:
    """PyBroker's naive UTC datetimes back to int64 ns since the epoch."""
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return np.asarray(index.as_unit("ns").asi8, dtype=np.int64)


def pybroker_frame(
    symbol: str,
    ts: I64,
    ohlcv: F64,
    scaling: PointValueScaling,
) -> pd.DataFrame:
    """One market's bars (``ohlcv`` of shape ``(n, 5)`` in points) as PyBroker's input frame.

    Raises on a missing price or a non-increasing timestamp, naming the row: PyBroker would
    treat a NaN close as "no bar" and carry on, which the cross-check must not hide.
    """
    prices = np.asarray(ohlcv, dtype=np.float64)
    if prices.ndim != 2 or prices.shape[1] != 5 or prices.shape[0] != len(ts):
        raise ValueError(f"{symbol}: ohlcv has shape {prices.shape}, expected ({len(ts)}, 5)")
    bad = np.flatnonzero(~np.isfinite(prices[:, :4]).all(axis=1))
    if bad.size:
        raise ValueError(f"{symbol}: bar {int(bad[0])} has a missing or infinite price")
    if np.any(np.diff(ts) <= 0):
        row = int(np.flatnonzero(np.diff(ts) <= 0)[0]) + 1
        raise ValueError(f"{symbol}: timestamps must strictly increase; bar {row} does not")
    scaled = scaling.to_pybroker(prices[:, :4])
    if np.any(scaled[:, 2] <= 0):
        row = int(np.flatnonzero(scaled[:, 2] <= 0)[0])
        raise ValueError(
            f"{symbol}: bar {row} has low {prices[row, 2]} points, not positive after the "
            f"offset of {scaling.price_offset}; PyBroker refuses fills at prices <= 0 "
            "(use auto_price_offset)"
        )
    return pd.DataFrame(
        {
            "symbol": symbol,
            "date": utc_naive(ts),
            "open": scaled[:, 0],
            "high": scaled[:, 1],
            "low": scaled[:, 2],
            "close": scaled[:, 3],
            "volume": np.nan_to_num(prices[:, 4], nan=0.0),
        }
    )


@dataclass(frozen=True)
class PerContractFees:
    """PyBroker fee function charging each market its own fee per contract (share) per side."""

    per_contract: dict[str, Decimal]

    def __call__(self, info: FeeInfo) -> Decimal:
        """Fee of one order: the symbol's per-contract fee times the contracts traded."""
        return self.per_contract[info.symbol] * Decimal(info.shares)


def _refuse_unmapped(simulation: SimulationConfig) -> None:
    """Settings PyBroker cannot reproduce exactly are refused rather than approximated."""
    unmapped = {
        "fill_delay=0 (PyBroker's buy_delay/sell_delay must be >= 1)": simulation.fill_delay < 1,
        "slippage_ticks": simulation.slippage_ticks != 0,
        "slippage_atr": simulation.slippage_atr != 0,
        "participation": simulation.participation is not None,
        "max_leverage": simulation.max_leverage is not None,
        "interest_rate": simulation.interest_rate != 0,
        "contract_mode='contracts' (PyBroker cannot roll actual contracts)": (
            simulation.contract_mode != "continuous"
        ),
    }
    named = [name for name, refused in unmapped.items() if refused]
    if named:
        raise UnsupportedSettingError(
            "PyBroker cannot reproduce these simulation settings exactly: " + ", ".join(named)
        )


def equivalent_config(
    simulation: SimulationConfig, markets: Sequence[MarketSpec], *, long_only: bool = False
) -> StrategyConfig:
    """The PyBroker configuration equivalent to ``simulation`` for these markets.

    Fills at the next bar's open need ``buy_delay = sell_delay = fill_delay`` *and* the
    strategy setting ``buy_fill_price = sell_fill_price = PriceType.OPEN``. Fill prices are not
    rounded to the cent (a 64th of a Treasury point is $15.625 per contract), results are not
    rounded, and fractional shares are off (whole contracts, as Contango trades).
    """
    _refuse_unmapped(simulation)
    foreign = [m.name for m in markets if m.currency != simulation.account_currency]
    if foreign:
        raise UnsupportedSettingError(
            f"markets {foreign} are not quoted in the account currency "
            f"{simulation.account_currency}; the bridge does not convert currencies"
        )
    fees = {m.name: Decimal(str(m.commission + m.exchange_fee)) for m in markets}
    fee_mode: FeeMode | PerContractFees | None
    if not any(fees.values()):
        fee_mode, fee_amount = None, 0.0
    elif len(set(fees.values())) == 1:
        fee_mode, fee_amount = FeeMode.PER_SHARE, float(next(iter(fees.values())))
    else:
        fee_mode, fee_amount = PerContractFees(fees), 0.0
    return StrategyConfig(
        initial_cash=simulation.capital,
        fee_mode=fee_mode,
        fee_amount=fee_amount,
        enable_fractional_shares=False,
        round_fill_price=False,
        position_mode=PositionMode.LONG_ONLY if long_only else PositionMode.DEFAULT,
        buy_delay=simulation.fill_delay,
        sell_delay=simulation.fill_delay,
        bootstrap_samples=100,
        exit_on_last_bar=False,
        round_test_result=False,
    )
