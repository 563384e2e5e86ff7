"""The NamedTuples the kernels share: market data, market constants, parameters, account state.

Everything mutable lives in arrays inside :class:`SimState`, so the same per-bar step functions
can be driven by a numba loop (vectorized runs) or by a Python loop that calls a user callback
between bars (event-driven runs) without copying anything.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from contango.engine.kernels import records_nb as rec

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Records = npt.NDArray[np.void]


class SimData(NamedTuple):
    """Bar data, ``n`` bars x ``m`` markets, plus the optional roll and FX inputs."""

    ts: I64  # (n,) ns since epoch, UTC
    days: F64  # (n,) calendar days since the previous bar (0 on bar 0); (0,) if no interest
    open: F64  # (n, m)
    high: F64
    low: F64
    close: F64
    volume: F64
    fx: F64  # (n, k) account currency per unit of currency k (k = 0: one currency)
    atr: F64  # (n, m) ATR known before bar t opens (the previous bar's), or (0, 0)
    contract: I64  # (n, m) active contract index (actual-contract mode) or (0, 0)
    roll_price: F64  # (n, m) outgoing contract's open on roll bars, or (0, 0)
    expiry_bar: I64  # (n, m) last bar the active contract may be held, or (0, 0)


class MarketConsts(NamedTuple):
    """Per-market constants, each ``(m,)``; money in the market's own currency."""

    point_value: F64
    tick_size: F64
    fee: F64  # commission + exchange fees per contract per side
    initial_margin: F64
    maintenance_margin: F64
    max_contracts: F64  # inf when unlimited
    fx_col: I64  # column of SimData.fx, -1 when the market trades in the account currency


class SimParams(NamedTuple):
    """Scalar parameters of a run (see :class:`contango.engine.config.SimulationConfig`)."""

    capital: float
    fill_delay: int
    slippage_ticks: float
    slippage_atr: float
    participation: float  # fraction of bar volume; <= 0 means no cap
    carry_remainder: bool
    reject_orders: bool  # True: refuse an order that breaches a limit; False: trim it
    max_leverage: float  # inf when unlimited
    margin_cap: float  # share of equity that initial margin may use
    interest_rate: float  # annual, ACT/365 on a positive cash balance
    liquidate_all: bool  # margin call: True closes everything, False restores initial margin
    liquidate_at_close: bool  # margin call: True at the bar's close, False at next open
    contract_mode: bool
    delta_mode: bool  # the order array holds contracts to trade, not target positions


class SimState(NamedTuple):
    """Account, positions, open-trade accumulators, record buffers and per-bar outputs."""

    pos: F64  # (m,) signed contracts
    avg: F64  # (m,) average entry price of the open position
    mark: F64  # (m,) last price the open position was marked at
    held: I64  # (m,) contract index held (-1 continuous / none)
    held_expiry: I64  # (m,) last bar the held contract may be held (huge when none)
    pending: F64  # (m,) target position still to reach, NaN none
    forced: F64  # (m,) margin-call target for the next open, NaN none
    vol_used: F64  # (m,) contracts filled this bar (participation cap)
    tr_bar: I64  # (m,) open trade: entry bar
    tr_contract: I64
    tr_dir: F64
    tr_qty: F64
    tr_entry_val: F64
    tr_exit_qty: F64
    tr_exit_val: F64
    tr_gross: F64
    tr_fees: F64
    tr_slip: F64
    tr_mae: F64
    tr_mfe: F64
    acct: F64  # (2,) CASH, INTEREST
    counts: I64  # (N_COUNTERS,)
    fills: Records
    trades: Records
    rejects: Records
    calls: Records
    rolls: Records
    # Per-bar outputs. Positions and the initial margin held are not recorded per bar: they
    # follow from the fills (see ``series_nb``), which saves writing two more series.
    equity: F64  # (n,)
    cash: F64  # (n,)
    exposure: F64  # (n,) gross notional at the close


def new_state(n: int, m: int, capital: float, capacity: int) -> SimState:
    """A flat account holding ``capital`` with room for ``capacity`` records of each kind."""
    zeros = np.zeros(m)
    counts = np.zeros(rec.N_COUNTERS, dtype=np.int64)
    counts[rec.LAST_CALL_BAR] = -1
    return SimState(
        pos=zeros.copy(),
        avg=zeros.copy(),
        mark=np.full(m, np.nan),
        held=np.full(m, -1, dtype=np.int64),
        held_expiry=np.full(m, np.iinfo(np.int64).max, dtype=np.int64),
        pending=np.full(m, np.nan),
        forced=np.full(m, np.nan),
        vol_used=zeros.copy(),
        tr_bar=np.zeros(m, dtype=np.int64),
        tr_contract=np.full(m, -1, dtype=np.int64),
        tr_dir=zeros.copy(),
        tr_qty=zeros.copy(),
        tr_entry_val=zeros.copy(),
        tr_exit_qty=zeros.copy(),
        tr_exit_val=zeros.copy(),
        tr_gross=zeros.copy(),
        tr_fees=zeros.copy(),
        tr_slip=zeros.copy(),
        tr_mae=zeros.copy(),
        tr_mfe=zeros.copy(),
        acct=np.array([capital, 0.0]),
        counts=counts,
        # Uninitialised: the kernels set every field of each record they write, and only the
        # first ``counts`` records are ever read. Zeroing would cost a pass over the buffers.
        fills=np.empty(capacity, dtype=rec.FILL_DTYPE),
        trades=np.empty(capacity, dtype=rec.TRADE_DTYPE),
        rejects=np.empty(capacity, dtype=rec.REJECT_DTYPE),
        calls=np.empty(capacity, dtype=rec.CALL_DTYPE),
        rolls=np.empty(capacity, dtype=rec.ROLL_DTYPE),
        equity=np.empty(n),
        cash=np.empty(n),
        exposure=np.empty(n),
    )


def grow_records(state: SimState, capacity: int) -> SimState:
    """The same state with record buffers enlarged to ``capacity`` (event-driven runs)."""

    def grown(records: Records) -> Records:
        bigger = np.empty(capacity, dtype=records.dtype)
        bigger[: records.shape[0]] = records
        return bigger

    return state._replace(
        fills=grown(state.fills),
        trades=grown(state.trades),
        rejects=grown(state.rejects),
        calls=grown(state.calls),
        rolls=grown(state.rolls),
    )


def records_needed(state: SimState) -> int:
    """The largest record count so far: a buffer smaller than this lost records."""
    return int(state.counts[: rec.N_ROLLS + 1].max())
