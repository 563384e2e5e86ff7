"""Record layouts and codes shared by the simulation kernels, the reference twin and the results.

Kernels write NumPy structured records (one row per fill, trade, rejection, margin call, roll);
the public wrapper turns them into tables. Codes are small integers so numba treats them as
compile-time constants; :data:`EXIT_REASONS` and friends give their names.
"""

from __future__ import annotations

import numpy as np

# Why a fill happened; a trade's exit reason is the reason of the fill that flattened it.
SIGNAL = 0
ROLL = 1
MARGIN_CALL = 2
EXPIRY = 3
STOP_LOSS = 4
TAKE_PROFIT = 5
END_OF_DATA = 6  # the trade is still open on the last bar (marked, not closed)
EXIT_REASONS: tuple[str, ...] = (
    "signal",
    "roll",
    "margin_call",
    "expiry",
    "stop_loss",
    "take_profit",
    "open",
)

# Why an order was trimmed or refused at order time.
REJECT_NONE = 0
REJECT_MAX_CONTRACTS = 1
REJECT_INITIAL_MARGIN = 2
REJECT_LEVERAGE = 3
REJECT_REASONS: tuple[str, ...] = ("", "max_contracts", "initial_margin", "max_leverage")

# Order types, time in force and order states of the event-driven order book.
MARKET = 0
LIMIT = 1
STOP = 2
STOP_LIMIT = 3
ORDER_TYPES: tuple[str, ...] = ("market", "limit", "stop", "stop_limit")
GTC = 0
DAY = 1
IOC = 2
TIME_IN_FORCE: tuple[str, ...] = ("gtc", "day", "ioc")
WORKING = 0
FILLED = 1
CANCELLED = 2
EXPIRED = 3
REJECTED = 4
ORDER_STATES: tuple[str, ...] = ("working", "filled", "cancelled", "expired", "rejected")

# Slots of the small account vector (a mutable scalar store numba can pass around).
CASH = 0
INTEREST = 1
# Slots of the counter vector.
N_FILLS = 0
N_TRADES = 1
N_REJECTS = 2
N_CALLS = 3
N_ROLLS = 4
LAST_CALL_BAR = 5
N_COUNTERS = 6

FILL_DTYPE = np.dtype(
    [
        ("order_id", np.int64),  # -1 for target orders, rolls, expiries and margin calls
        ("bar", np.int64),
        ("market", np.int64),
        ("contract", np.int64),  # -1 in continuous (back-adjusted) mode
        ("qty", np.float64),  # signed contracts: + bought, - sold
        ("price", np.float64),  # execution price, slippage included
        ("fees", np.float64),  # commission + exchange fees, account currency
        ("slippage", np.float64),  # cost of slippage, account currency (already in price)
        ("fx", np.float64),  # account currency per unit of the market's currency
        ("reason", np.int64),
    ]
)

TRADE_DTYPE = np.dtype(
    [
        ("market", np.int64),
        ("contract", np.int64),
        ("direction", np.int64),  # +1 long, -1 short
        ("entry_bar", np.int64),
        ("exit_bar", np.int64),
        ("quantity", np.float64),  # contracts entered over the trade's life
        ("entry_price", np.float64),  # volume-weighted average entry
        ("exit_price", np.float64),  # volume-weighted average exit (mark when still open)
        ("pnl_gross", np.float64),  # at execution prices (slippage included), account currency
        ("fees", np.float64),
        ("slippage", np.float64),  # informational: part of pnl_gross lost to slippage
        ("pnl_net", np.float64),  # pnl_gross - fees
        ("mae", np.float64),  # worst open P&L seen at bar lows/highs, account currency
        ("mfe", np.float64),  # best open P&L seen at bar lows/highs, account currency
        ("exit_reason", np.int64),
        ("is_open", np.int64),
    ]
)

REJECT_DTYPE = np.dtype(
    [
        ("order_id", np.int64),
        ("bar", np.int64),
        ("market", np.int64),
        ("requested", np.float64),  # signed contracts asked for
        ("allowed", np.float64),  # signed contracts let through (0 when refused)
        ("reason", np.int64),
    ]
)

CALL_DTYPE = np.dtype(
    [
        ("bar", np.int64),
        ("equity", np.float64),
        ("maintenance", np.float64),  # maintenance requirement that equity fell below
        ("initial", np.float64),  # initial requirement at the same time
    ]
)

ROLL_DTYPE = np.dtype(
    [
        ("bar", np.int64),
        ("market", np.int64),
        ("from_contract", np.int64),
        ("to_contract", np.int64),
        ("qty", np.float64),  # signed position carried over
        ("exit_price", np.float64),  # expiring leg, slippage included
        ("entry_price", np.float64),  # next leg, slippage included
        ("fees", np.float64),  # both legs
        ("slippage", np.float64),  # both legs
        ("closed_pnl", np.float64),  # gross P&L realised by closing the expiring leg's trade
    ]
)
