"""The working-order book of event-driven runs: market, limit, stop and stop-limit orders.

Intrabar assumptions (a bar is only open, high, low and close, so fills follow fixed rules):

* Market orders fill at the open of their first active bar, plus slippage.
* A buy limit at L fills at the open if the open is at or below L (a gap through the limit
  gives the better price), else at L if the low reaches L; sells mirror this. No slippage.
* A buy stop at S fills at the open if the open is at or above S (a gap through the stop fills
  at the worse open), else at S if the high reaches S; plus slippage. Sells mirror this.
* A stop-limit triggers like a stop, then is a limit. Triggered at the open: limit rules apply
  to the rest of the bar. Triggered intrabar at S: fills at S when S is within the limit;
  otherwise the limit works from the next bar (the low that might reach it may have come first).
* Orders are processed in placement order; a bracket's stop-loss is placed before its
  take-profit, so when one bar reaches both, the stop-loss fills (the conservative reading).
* Time in force: GTC works until filled or cancelled; DAY expires when the trading session of
  its first active bar ends; IOC gets its first active bar only, what is not filled then is
  cancelled (also when that bar has no data).
* Bars without data (NaN open) never fill; the order waits, or expires per its time in force.
* Bracket children (stop-loss, take-profit) are placed for the filled quantity, work from the
  next bar as one-cancels-other, and are cancelled when the position goes flat otherwise.
"""

# ruff: noqa: PLR0917 - numba kernels take positional arguments only (no keyword-only
# parameters in nopython mode); the NamedTuples already bundle what can be bundled.

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from contango.engine.kernels import records_nb as rec
from contango.engine.kernels.compile_nb import kernel
from contango.engine.kernels.fills_nb import execute_fill_nb, slippage_px_nb
from contango.engine.kernels.margin_nb import allowed_target_nb
from contango.engine.kernels.state_nb import MarketConsts, SimData, SimParams, SimState

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
_NO_PRICE = (math.nan, False, False)
_NS_PER_DAY = 86_400_000_000_000  # a DAY order's session is the bar's UTC calendar day


class OrderBook(NamedTuple):
    """Orders by id (their row); ``size[0]`` is the number of orders placed so far."""

    market: I64
    qty: F64  # signed contracts still to fill
    otype: I64
    limit: F64
    stop: F64
    tif: I64
    status: I64
    placed_bar: I64
    active_from: I64
    session: I64  # session of the first active bar, -1 until then
    triggered: I64
    at_close: I64  # market order filling at the placing bar's close (fill_delay=0)
    stop_loss: F64  # bracket prices, NaN none
    take_profit: F64
    oco: I64  # the other order of a one-cancels-other pair, -1 none
    reason: I64  # reason recorded on fills: SIGNAL, STOP_LOSS or TAKE_PROFIT
    filled: F64  # signed contracts filled
    fill_value: F64  # sum of filled contracts x execution price
    size: I64  # (2,) orders placed, children that did not fit


def new_book(capacity: int) -> OrderBook:
    """An empty book with room for ``capacity`` orders."""

    def f() -> F64:
        return np.full(capacity, np.nan)

    def i(value: int) -> I64:
        return np.full(capacity, value, dtype=np.int64)

    return OrderBook(
        market=i(0),
        qty=np.zeros(capacity),
        otype=i(0),
        limit=f(),
        stop=f(),
        tif=i(0),
        status=i(rec.WORKING),
        placed_bar=i(0),
        active_from=i(0),
        session=i(-1),
        triggered=i(0),
        at_close=i(0),
        stop_loss=f(),
        take_profit=f(),
        oco=i(-1),
        reason=i(rec.SIGNAL),
        filled=np.zeros(capacity),
        fill_value=np.zeros(capacity),
        size=np.zeros(2, dtype=np.int64),
    )


def grow_book(book: OrderBook, capacity: int) -> OrderBook:
    """The same book with room for ``capacity`` orders."""
    fresh = new_book(capacity)
    used = int(book.size[0])
    for name in OrderBook._fields:
        if name != "size":
            getattr(fresh, name)[:used] = getattr(book, name)[:used]
    fresh.size[:] = book.size
    return fresh


@kernel
def add_order_nb(
    book: OrderBook,
    market: int,
    qty: float,
    otype: int,
    limit: float,
    stop: float,
    tif: int,
    bar: int,
    active_from: int,
    reason: int,
) -> int:
    """Append an order; returns its id, or -1 when the book is full."""
    k = book.size[0]
    if k >= book.qty.shape[0]:
        book.size[1] += 1
        return -1
    book.market[k] = market
    book.qty[k] = qty
    book.otype[k] = otype
    book.limit[k] = limit
    book.stop[k] = stop
    book.tif[k] = tif
    book.status[k] = rec.WORKING
    book.placed_bar[k] = bar
    book.active_from[k] = active_from
    book.reason[k] = reason
    book.size[0] = k + 1
    return k  # type: ignore[no-any-return]


@kernel
def _limit_price_nb(side: float, limit: float, o: float, h: float, lo: float) -> float:
    if side > 0:
        if o <= limit:
            return o
        return limit if lo <= limit else math.nan
    if o >= limit:
        return o
    return limit if h >= limit else math.nan


@kernel
def fill_price_nb(  # noqa: PLR0911 - one return per fill rule reads like the rules
    otype: int,
    side: float,
    limit: float,
    stop: float,
    triggered: bool,
    o: float,
    h: float,
    lo: float,
) -> tuple[float, bool, bool]:
    """(price or NaN, slippage applies, triggered now) for one order on one bar."""
    if otype == rec.MARKET:
        return o, True, triggered
    if otype == rec.LIMIT or (otype == rec.STOP_LIMIT and triggered):
        return _limit_price_nb(side, limit, o, h, lo), False, triggered
    gap = o >= stop if side > 0 else o <= stop
    touch = h >= stop if side > 0 else lo <= stop
    if otype == rec.STOP:
        if gap:
            return o, True, True
        if touch:
            return stop, True, True
        return _NO_PRICE
    if gap:  # stop-limit triggered at the open: a limit for the rest of the bar
        return _limit_price_nb(side, limit, o, h, lo), False, True
    if touch:
        within = stop <= limit if side > 0 else stop >= limit
        return (stop if within else math.nan), False, True
    return _NO_PRICE


@kernel
def _place_brackets_nb(book: OrderBook, i: int, j: int, filled: float, t: int) -> None:
    sl = book.stop_loss[i]
    tp = book.take_profit[i]
    tif = rec.GTC
    first = -1
    if not math.isnan(sl):
        first = add_order_nb(book, j, -filled, rec.STOP, math.nan, sl, tif, t, t + 1, rec.STOP_LOSS)
    if not math.isnan(tp):
        second = add_order_nb(
            book, j, -filled, rec.LIMIT, tp, math.nan, tif, t, t + 1, rec.TAKE_PROFIT
        )
        if first >= 0 and second >= 0:
            book.oco[first] = second
            book.oco[second] = first


@kernel
def _cancel_children_nb(book: OrderBook, j: int) -> None:
    """The position in ``j`` went flat: its bracket orders have nothing left to protect."""
    for k in range(book.size[0]):
        if book.status[k] == rec.WORKING and book.market[k] == j and book.reason[k] != rec.SIGNAL:
            book.status[k] = rec.CANCELLED


@kernel
def fill_order_nb(
    data: SimData,
    mk: MarketConsts,
    par: SimParams,
    st: SimState,
    book: OrderBook,
    i: int,
    t: int,
    price: float,
    slipped: bool,
) -> None:
    """Fill order ``i`` at ``price`` as far as limits and the participation cap allow."""
    j = book.market[i]
    want = book.qty[i]
    desired = allowed_target_nb(data, mk, par, st, t, j, st.pos[j] + want, price, i)
    trade = desired - st.pos[j]
    limited = trade != want
    if par.participation > 0.0:
        vol = data.volume[t, j]
        cap = 0.0 if math.isnan(vol) else math.floor(par.participation * vol + 1e-9)
        cap = max(cap - st.vol_used[j], 0.0)
        if abs(trade) > cap:
            trade = math.copysign(cap, trade)
    if trade != 0.0:
        slip = (
            slippage_px_nb(data, mk, par.slippage_ticks, par.slippage_atr, t, j) if slipped else 0.0
        )
        px = execute_fill_nb(data, mk, st, t, j, trade, price, slip, book.reason[i], i)
        book.qty[i] -= trade
        book.filled[i] += trade
        book.fill_value[i] += abs(trade) * px
        if book.oco[i] >= 0 and book.status[book.oco[i]] == rec.WORKING:
            book.status[book.oco[i]] = rec.CANCELLED
        if book.reason[i] == rec.SIGNAL:
            _place_brackets_nb(book, i, j, trade, t)
        if st.pos[j] == 0.0:
            _cancel_children_nb(book, j)
    if book.qty[i] == 0.0:
        book.status[i] = rec.FILLED
    elif limited:
        book.status[i] = rec.REJECTED if book.filled[i] == 0.0 else rec.CANCELLED
    elif not par.carry_remainder or book.tif[i] == rec.IOC:
        book.status[i] = rec.CANCELLED


@kernel
def _expired_nb(data: SimData, book: OrderBook, i: int, t: int) -> bool:
    """DAY orders end with the session of their first active bar."""
    if book.tif[i] != rec.DAY:
        return False
    session = data.ts[t] // _NS_PER_DAY
    if book.session[i] < 0:
        book.session[i] = session
        return False
    return session != book.session[i]  # type: ignore[no-any-return]


@kernel
def process_book_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, book: OrderBook, t: int
) -> None:
    """Work every active order on bar ``t`` in placement order."""
    for i in range(book.size[0]):
        if book.status[i] != rec.WORKING or book.active_from[i] > t or book.at_close[i] == 1:
            continue
        if _expired_nb(data, book, i, t):
            book.status[i] = rec.EXPIRED
            continue
        j = book.market[i]
        o = data.open[t, j]
        if not math.isnan(o):
            side = 1.0 if book.qty[i] > 0 else -1.0
            price, slipped, trig = fill_price_nb(
                book.otype[i],
                side,
                book.limit[i],
                book.stop[i],
                book.triggered[i] == 1,
                o,
                data.high[t, j],
                data.low[t, j],
            )
            if trig:
                book.triggered[i] = 1
            if not math.isnan(price):
                fill_order_nb(data, mk, par, st, book, i, t, price, slipped)
        if book.status[i] == rec.WORKING and book.tif[i] == rec.IOC:
            book.status[i] = rec.EXPIRED


@kernel
def fill_at_close_nb(
    data: SimData, mk: MarketConsts, par: SimParams, st: SimState, book: OrderBook, t: int
) -> None:
    """Fill market orders placed on bar ``t`` with ``fill_delay=0`` at that bar's close.

    Without a close they become ordinary market orders for the next bar's open.
    """
    for i in range(book.size[0]):
        if book.status[i] != rec.WORKING or book.at_close[i] != 1:
            continue
        book.at_close[i] = 0
        price = data.close[t, book.market[i]]
        if not math.isnan(price):
            fill_order_nb(data, mk, par, st, book, i, t, price, True)
        if book.status[i] == rec.WORKING and book.tif[i] == rec.IOC:
            book.status[i] = rec.EXPIRED
