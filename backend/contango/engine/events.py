"""Event-driven backtests: a Python callback ``on_bar(ctx)`` per bar, the same execution core.

The callback runs after bar ``t`` has closed (fills, expiries, marking and the margin check of
that bar are done) and sees only bars ``0..t``: every price array it can reach is a read-only
view cut at ``t``, so look-ahead is impossible by construction. Orders it places work from bar
``t + fill_delay`` (market orders fill at that bar's open); with ``fill_delay=0`` market orders
fill at bar ``t``'s close and limit, stop and stop-limit orders work from bar ``t + 1``.
Order types, time in force and the intrabar fill rules are documented in
:mod:`contango.engine.kernels.orders_nb`.
"""

from __future__ import annotations

import dataclasses
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from contango.engine.bars import Bars, ContractPanel
from contango.engine.config import MarketSpec, SimulationConfig
from contango.engine.inputs import build_data, build_markets, build_params
from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.fills_nb import equity_nb
from contango.engine.kernels.margin_nb import (
    initial_requirement_nb,
    maintenance_requirement_nb,
)
from contango.engine.kernels.orders_nb import (
    OrderBook,
    fill_at_close_nb,
    grow_book,
    new_book,
)
from contango.engine.kernels.simulate_nb import close_phase_nb, finalize_nb, open_phase_nb
from contango.engine.kernels.state_nb import (
    MarketConsts,
    SimData,
    SimParams,
    SimState,
    grow_records,
    new_state,
    records_needed,
)
from contango.engine.result import BacktestResult
from contango.engine.run import StrategyError, collect_result

F64 = npt.NDArray[np.float64]
_TIF = {"gtc": rec.GTC, "day": rec.DAY, "ioc": rec.IOC}


class ExecContext:
    """What ``on_bar`` sees at bar ``t``: history up to ``t``, the account, and order entry."""

    def __init__(
        self,
        bars: Bars,
        data: SimData,
        mk: MarketConsts,
        par: SimParams,
        *,
        state: SimState,
        book: OrderBook,
    ) -> None:
        self._bars, self._data, self._mk, self._par = bars, data, mk, par
        self._state, self._book = state, book
        self._index = {name: j for j, name in enumerate(bars.markets)}
        self.bar = -1
        self.markets: tuple[str, ...] = tuple(bars.markets)
        self.last_market: str | None = None  # the market the callback touched last
        self.placed_at_close = False
        self.state: dict[str, Any] = {}  # the strategy's own memory between bars

    # --- history (read-only views ending at the current bar) ------------------------------
    def _market(self, market: str) -> int:
        if market not in self._index:
            raise KeyError(f"unknown market {market!r}; markets are {list(self.markets)}")
        self.last_market = market
        return self._index[market]

    def _view(self, panel: F64, market: str) -> F64:
        view = panel[: self.bar + 1, self._market(market)]
        view.flags.writeable = False
        return view

    def open(self, market: str) -> F64:
        """Opens of ``market`` up to and including the current bar."""
        return self._view(self._bars.open, market)

    def high(self, market: str) -> F64:
        """Highs up to the current bar."""
        return self._view(self._bars.high, market)

    def low(self, market: str) -> F64:
        """Lows up to the current bar."""
        return self._view(self._bars.low, market)

    def close(self, market: str) -> F64:
        """Closes up to the current bar."""
        return self._view(self._bars.close, market)

    def volume(self, market: str) -> F64:
        """Volumes up to the current bar."""
        return self._view(self._bars.volume, market)

    @property
    def ts(self) -> pd.Timestamp:
        """Timestamp of the current bar (UTC)."""
        return pd.Timestamp(int(self._bars.ts[self.bar]), tz="UTC")

    # --- the account at the current close --------------------------------------------------
    def position(self, market: str) -> float:
        """Signed contracts held in ``market``."""
        return float(self._state.pos[self._market(market)])

    @property
    def equity(self) -> float:
        """Cash plus open P&L, account currency."""
        return float(equity_nb(self._data, self._mk, self._state, self.bar))

    @property
    def cash(self) -> float:
        """Starting capital plus realised P&L, less fees, plus interest."""
        return float(self._state.acct[rec.CASH])

    @property
    def initial_margin(self) -> float:
        """Initial-margin requirement of the open positions."""
        return float(initial_requirement_nb(self._data, self._mk, self._state, self.bar))

    @property
    def maintenance_margin(self) -> float:
        """Maintenance-margin requirement of the open positions."""
        return float(maintenance_requirement_nb(self._data, self._mk, self._state, self.bar))

    def working_orders(self, market: str | None = None) -> list[int]:
        """Ids of orders still working, optionally for one market."""
        b = self._book
        used = int(b.size[0])
        ids = np.flatnonzero(b.status[:used] == rec.WORKING)
        if market is not None:
            ids = ids[b.market[ids] == self._market(market)]
        return [int(i) for i in ids]

    # --- order entry ------------------------------------------------------------------------
    def buy(self, market: str, contracts: float, **kwargs: Any) -> int:
        """Buy ``contracts``; see :meth:`order` for ``limit``, ``stop``, ``tif``, brackets."""
        return self.order(market, abs(contracts), **kwargs)

    def sell(self, market: str, contracts: float, **kwargs: Any) -> int:
        """Sell ``contracts``; see :meth:`order`."""
        return self.order(market, -abs(contracts), **kwargs)

    def order_target(self, market: str, target: float, **kwargs: Any) -> int | None:
        """Trade toward ``target`` contracts from the current position (None when there)."""
        qty = float(math.trunc(target)) - self.position(market)
        return None if qty == 0 else self.order(market, qty, **kwargs)

    def order(
        self,
        market: str,
        qty: float,
        *,
        limit: float | None = None,
        stop: float | None = None,
        tif: str = "gtc",
        stop_loss: float | None = None,
        take_profit: float | None = None,
    ) -> int:
        """Place an order of ``qty`` signed contracts; returns its id.

        Market without prices; ``limit`` alone is a limit order, ``stop`` alone a stop order,
        both a stop-limit. ``stop_loss``/``take_profit`` are prices of a bracket placed when
        the order fills. ``tif`` is ``gtc``, ``day`` or ``ioc``.
        """
        j = self._market(market)
        qty = float(math.trunc(qty))
        if qty == 0:
            raise ValueError(f"order for {market} at bar {self.bar} has zero contracts")
        if tif not in _TIF:
            raise ValueError(f"tif {tif!r} is not one of {sorted(_TIF)}")
        for name, value in (
            ("limit", limit),
            ("stop", stop),
            ("stop_loss", stop_loss),
            ("take_profit", take_profit),
        ):
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} price {value!r} for {market} is not a finite price")
        otype = (
            rec.MARKET
            if limit is None and stop is None
            else (rec.LIMIT if stop is None else rec.STOP if limit is None else rec.STOP_LIMIT)
        )
        at_close = otype == rec.MARKET and self._par.fill_delay == 0
        return self._append(
            j,
            qty,
            otype,
            limit=limit,
            stop=stop,
            tif=_TIF[tif],
            at_close=at_close,
            stop_loss=stop_loss,
            take_profit=take_profit,
        )

    def _append(
        self,
        j: int,
        qty: float,
        otype: int,
        *,
        limit: float | None,
        stop: float | None,
        tif: int,
        at_close: bool,
        stop_loss: float | None,
        take_profit: float | None,
    ) -> int:
        b = self._book
        i = int(b.size[0])
        if i >= b.qty.shape[0]:
            self._book = b = grow_book(b, 2 * b.qty.shape[0] + 16)
        b.market[i], b.qty[i], b.otype[i], b.tif[i] = j, qty, otype, tif
        b.limit[i] = math.nan if limit is None else limit
        b.stop[i] = math.nan if stop is None else stop
        b.stop_loss[i] = math.nan if stop_loss is None else stop_loss
        b.take_profit[i] = math.nan if take_profit is None else take_profit
        b.placed_bar[i] = self.bar
        b.active_from[i] = self.bar + max(self._par.fill_delay, 1)
        b.at_close[i] = int(at_close)
        b.status[i] = rec.WORKING
        b.size[0] = i + 1
        self.placed_at_close |= at_close
        return i

    def cancel(self, order_id: int) -> bool:
        """Cancel a working order; False when it is no longer working."""
        if self._book.status[order_id] != rec.WORKING:
            return False
        self._book.status[order_id] = rec.CANCELLED
        return True


def _orders_frame(book: OrderBook, markets: Sequence[str]) -> pd.DataFrame:
    used = int(book.size[0])
    return pd.DataFrame(
        {
            "order_id": np.arange(used),
            "market": [markets[int(j)] for j in book.market[:used]],
            "type": [rec.ORDER_TYPES[int(x)] for x in book.otype[:used]],
            "tif": [rec.TIME_IN_FORCE[int(x)] for x in book.tif[:used]],
            "status": [rec.ORDER_STATES[int(x)] for x in book.status[:used]],
            "placed_bar": book.placed_bar[:used],
            "limit": book.limit[:used],
            "stop": book.stop[:used],
            "remaining": book.qty[:used],
            "filled": book.filled[:used],
            "role": [rec.EXIT_REASONS[int(x)] for x in book.reason[:used]],
        }
    )


def _room(ctx: ExecContext, state: SimState, m: int) -> SimState:
    """Grow record buffers and the book so that one more bar cannot overflow them."""
    book = ctx._book
    working = int(book.size[0])
    need = records_needed(state) + 4 * m + working + 8
    if need > state.fills.shape[0]:
        state = grow_records(state, 2 * need)
    if 2 * working + 8 > book.qty.shape[0] - working:
        ctx._book = grow_book(book, 4 * working + 16)
    return state


def run_events(
    bars: Bars,
    markets: Sequence[MarketSpec],
    on_bar: Callable[[ExecContext], None],
    *,
    config: SimulationConfig | None = None,
    contracts: ContractPanel | None = None,
    fx: Mapping[str, F64] | None = None,
    atr: F64 | None = None,
    data_versions: Mapping[str, str] | None = None,
    seed: int = 0,
    run_config: Mapping[str, Any] | None = None,
) -> BacktestResult:
    """Run ``on_bar`` after every bar's close; orders go through the shared kernels.

    A callback that raises stops the run with a :class:`StrategyError` naming the bar, its
    timestamp, the market the callback touched last, and the traceback.
    """
    config = config or SimulationConfig()
    data = build_data(bars, markets, config, contracts=contracts, fx=fx, atr=atr)
    mk = build_markets(bars, markets, config, fx)
    par = build_params(config)
    n, m = bars.n_bars, bars.n_markets
    state = new_state(n, m, config.capital, 16 * m + 64)
    ctx = ExecContext(bars, data, mk, par, state=state, book=new_book(64))
    none = np.empty((0, m))
    for t in range(n):
        state = _room(ctx, state, m)
        ctx._state = state
        book = ctx._book
        open_phase_nb(data, mk, par, state, t, none, book)
        close_phase_nb(data, mk, par, state, t, none)
        ctx.bar, ctx.placed_at_close = t, False
        try:
            on_bar(ctx)
        except Exception as exc:  # any user error is reported with where it happened
            raise StrategyError(
                f"on_bar raised {type(exc).__name__}: {exc} at bar {t} ({ctx.ts}), "
                f"market {ctx.last_market}",
                bar=t,
                market=ctx.last_market,
                traceback_text=traceback.format_exc(),
            ) from exc
        if ctx.placed_at_close:
            fill_at_close_nb(data, mk, par, state, ctx._book, t)
            close_phase_nb(data, mk, par, state, t, none)
    finalize_nb(data, mk, state, n - 1)
    if ctx._book.size[1] > 0:
        raise RuntimeError("the order book overflowed; bracket orders were lost")
    result = collect_result(
        state,
        bars,
        config,
        data=data,
        mk=mk,
        run_config=run_config,
        data_versions=data_versions,
        seed=seed,
        contracts=contracts,
    )
    return dataclasses.replace(result, orders=_orders_frame(ctx._book, bars.markets))
