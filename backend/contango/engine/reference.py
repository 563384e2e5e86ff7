"""A slow, obvious pure-Python twin of the vectorized simulator, for tests only.

It takes the same validated inputs as the kernels (``SimData``, ``MarketConsts``,
``SimParams`` and a target array) and follows the rules written in
:mod:`contango.engine.kernels.simulate_nb` with plain objects and no shared code, so a test
that runs both catches a kernel that drifts from the rules. The working-order book of
event-driven runs is not covered here; its rules are tested against hand-worked bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from contango.engine.kernels.state_nb import MarketConsts, SimData, SimParams

F64 = npt.NDArray[np.float64]
SIGNAL, ROLL, MARGIN_CALL, EXPIRY, END = "signal", "roll", "margin_call", "expiry", "open"


@dataclass
class _Book:
    """One market's position and its open trade."""

    qty: float = 0.0
    avg: float = 0.0
    mark: float = math.nan
    contract: int = -1
    expiry: int = 2**62
    pending: float = math.nan
    forced: float = math.nan
    used: float = 0.0
    trade: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReferenceResult:
    """Per-bar series and plain-dict records."""

    equity: list[float] = field(default_factory=list)
    cash: list[float] = field(default_factory=list)
    margin: list[float] = field(default_factory=list)
    exposure: list[float] = field(default_factory=list)
    positions: list[list[float]] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    rolls: list[dict[str, Any]] = field(default_factory=list)
    interest: float = 0.0


class ReferenceSimulator:
    """Plain-Python simulation of target orders, rolls, expiries, margin and costs."""

    def __init__(self, data: SimData, mk: MarketConsts, par: SimParams) -> None:
        self.d, self.mk, self.p = data, mk, par
        self.m = int(data.open.shape[1])
        self.books = [_Book() for _ in range(self.m)]
        self.cash = float(par.capital)
        self.out = ReferenceResult()
        self.last_call = -1

    # --- money -----------------------------------------------------------------------------
    def fx(self, t: int, j: int) -> float:
        col = int(self.mk.fx_col[j])
        return 1.0 if col < 0 else float(self.d.fx[t, col])

    def equity(self, t: int) -> float:
        total = self.cash
        for j, b in enumerate(self.books):
            if b.qty != 0:
                total += b.qty * (b.mark - b.avg) * self.mk.point_value[j] * self.fx(t, j)
        return total

    def requirement(self, t: int, margins: F64) -> float:
        return sum(
            float(abs(b.qty) * margins[j] * self.fx(t, j))
            for j, b in enumerate(self.books)
            if b.qty != 0
        )

    def slippage(self, t: int, j: int) -> float:
        slip = self.p.slippage_ticks * self.mk.tick_size[j]
        if self.p.slippage_atr != 0 and not math.isnan(self.d.atr[t, j]):
            slip += self.p.slippage_atr * self.d.atr[t, j]
        return float(slip)

    # --- one execution ---------------------------------------------------------------------
    def fill(self, t: int, j: int, qty: float, price: float, reason: str) -> float:
        b, fx, pv = self.books[j], self.fx(t, j), float(self.mk.point_value[j])
        slip_px = self.slippage(t, j)
        side = 1.0 if qty > 0 else -1.0
        px = price + side * slip_px
        n = abs(qty)
        fees, slip = n * self.mk.fee[j] * fx, n * slip_px * pv * fx
        self.out.fills.append(
            {
                "bar": t,
                "market": j,
                "contract": b.contract,
                "qty": qty,
                "price": px,
                "fees": fees,
                "slippage": slip,
                "reason": reason,
            }
        )
        self.cash -= fees
        left = n
        if b.qty * side < 0:
            closing = min(n, abs(b.qty))
            direction = 1.0 if b.qty > 0 else -1.0
            pnl = closing * (px - b.avg) * direction * pv * fx
            self.cash += pnl
            tr = b.trade
            tr["gross"] += pnl
            tr["fees"] += fees * closing / n
            tr["slip"] += slip * closing / n
            tr["exit_qty"] += closing
            tr["exit_val"] += closing * px
            b.qty -= direction * closing
            left -= closing
            if b.qty == 0:
                self.close_trade(
                    j, t, reason, tr["exit_val"] / tr["exit_qty"], tr["gross"], is_open=0
                )
        if left > 0:
            if b.qty == 0:
                b.trade = {
                    "bar": t,
                    "contract": b.contract,
                    "dir": side,
                    "qty": left,
                    "entry_val": left * px,
                    "exit_qty": 0.0,
                    "exit_val": 0.0,
                    "gross": 0.0,
                    "fees": fees * left / n,
                    "slip": slip * left / n,
                    "mae": 0.0,
                    "mfe": 0.0,
                }
                b.avg = px
            else:
                b.avg = (abs(b.qty) * b.avg + left * px) / (abs(b.qty) + left)
                b.trade["qty"] += left
                b.trade["entry_val"] += left * px
                b.trade["fees"] += fees * left / n
                b.trade["slip"] += slip * left / n
            b.qty += side * left
        b.mark = price
        b.used += n
        return px

    def close_trade(
        self, j: int, t: int, reason: str, exit_px: float, gross: float, *, is_open: int
    ) -> None:
        tr = self.books[j].trade
        self.out.trades.append(
            {
                "market": j,
                "contract": tr["contract"],
                "direction": int(tr["dir"]),
                "entry_bar": tr["bar"],
                "exit_bar": t,
                "quantity": tr["qty"],
                "entry_price": tr["entry_val"] / tr["qty"],
                "exit_price": exit_px,
                "pnl_gross": gross,
                "fees": tr["fees"],
                "pnl_net": gross - tr["fees"],
                "mae": min(tr["mae"], gross),
                "mfe": max(tr["mfe"], gross),
                "exit_reason": reason,
                "is_open": is_open,
            }
        )

    # --- limits ----------------------------------------------------------------------------
    def allowed(self, t: int, j: int, desired: float, price: float) -> float:
        b = self.books[j]
        if desired == b.qty or (desired * b.qty >= 0 and abs(desired) <= abs(b.qty)):
            return desired
        caps = [(float(self.mk.max_contracts[j]), "max_contracts")]
        eq, fx = self.equity(t), self.fx(t, j)
        others = [(k, o) for k, o in enumerate(self.books) if k != j and o.qty != 0]
        if self.mk.initial_margin[j] > 0:
            used = sum(abs(o.qty) * self.mk.initial_margin[k] * self.fx(t, k) for k, o in others)
            room = (eq * self.p.margin_cap - used) / (self.mk.initial_margin[j] * fx)
            caps.append((math.floor(room + 1e-9), "initial_margin"))
        if not math.isinf(self.p.max_leverage) and abs(price) > 0:
            used = sum(
                abs(o.qty * o.mark) * self.mk.point_value[k] * self.fx(t, k) for k, o in others
            )
            room = (eq * self.p.max_leverage - used) / (abs(price) * self.mk.point_value[j] * fx)
            caps.append((math.floor(room + 1e-9), "max_leverage"))
        cap, why = caps[0]
        for value, name in caps[1:]:
            if value < cap:
                cap, why = value, name
        cap = max(cap, 0.0)
        keep = abs(b.qty) if desired * b.qty > 0 else 0.0
        if abs(desired) <= max(cap, keep):
            return desired
        result = b.qty if self.p.reject_orders else math.copysign(max(cap, keep), desired)
        self.out.rejects.append(
            {
                "bar": t,
                "market": j,
                "requested": desired - b.qty,
                "allowed": result - b.qty,
                "reason": why,
            }
        )
        return result

    def work_target(self, t: int, j: int, price: float) -> None:
        b = self.books[j]
        if math.isnan(b.pending) or math.isnan(price):
            return
        target = b.pending
        desired = self.allowed(t, j, target, price)
        trade = desired - b.qty
        if self.p.participation > 0:
            vol = self.d.volume[t, j]
            cap = 0.0 if math.isnan(vol) else math.floor(self.p.participation * vol + 1e-9)
            cap = max(cap - b.used, 0.0)
            if abs(trade) > cap:
                trade = math.copysign(cap, trade)
        if trade != 0:
            self.fill(t, j, trade, price, SIGNAL)
        if b.qty == target or desired != target or not self.p.carry_remainder:
            b.pending = math.nan

    def load_targets(self, row: F64) -> None:
        for j, b in enumerate(self.books):
            if not math.isnan(row[j]):
                value = float(math.trunc(row[j]))
                if self.p.delta_mode:
                    value += b.pending if not math.isnan(b.pending) else b.qty
                b.pending = value

    # --- the bar ---------------------------------------------------------------------------
    def roll(self, t: int) -> None:
        for j, b in enumerate(self.books):
            c = int(self.d.contract[t, j])
            if c < 0 or c == b.contract:
                continue
            if b.qty != 0 and b.contract >= 0:
                qty, old, fx = b.qty, b.contract, self.fx(t, j)
                n_trades = len(self.out.trades)
                exit_px = self.fill(t, j, -qty, float(self.d.roll_price[t, j]), ROLL)
                closed = self.out.trades[n_trades]["pnl_gross"]
                b.contract, b.expiry = c, int(self.d.expiry_bar[t, j])
                entry_px = self.fill(t, j, qty, float(self.d.open[t, j]), ROLL)
                self.out.rolls.append(
                    {
                        "bar": t,
                        "market": j,
                        "from_contract": old,
                        "to_contract": c,
                        "qty": qty,
                        "exit_price": exit_px,
                        "entry_price": entry_px,
                        "fees": 2 * abs(qty) * self.mk.fee[j] * fx,
                        "slippage": 2
                        * abs(qty)
                        * self.slippage(t, j)
                        * self.mk.point_value[j]
                        * fx,
                        "closed_pnl": closed,
                    }
                )
            else:
                b.contract, b.expiry = c, int(self.d.expiry_bar[t, j])

    def liquidate(self, t: int, at_close: bool) -> None:
        for j, b in enumerate(self.books):
            if math.isnan(b.forced):
                continue
            price = b.mark if at_close else float(self.d.open[t, j])
            if math.isnan(price):
                continue
            if b.forced != b.qty:
                self.fill(t, j, b.forced - b.qty, price, MARGIN_CALL)
            b.forced = math.nan

    def margin_check(self, t: int) -> bool:
        maintenance = self.requirement(t, self.mk.maintenance_margin)
        eq = self.equity(t)
        if maintenance <= 0 or self.last_call == t or eq >= maintenance:
            return False
        initial = self.requirement(t, self.mk.initial_margin)
        self.out.calls.append(
            {"bar": t, "equity": eq, "maintenance": maintenance, "initial": initial}
        )
        self.last_call = t
        scale = eq / initial if (not self.p.liquidate_all and eq > 0 and initial > 0) else 0.0
        for b in self.books:
            if b.qty != 0:
                b.forced = math.copysign(math.floor(abs(b.qty) * scale), b.qty)
                b.pending = math.nan
        return True

    def step(self, t: int, targets: F64) -> None:
        d, p = self.d, self.p
        if t > 0 and p.interest_rate != 0 and self.cash > 0:
            earned = self.cash * p.interest_rate * d.days[t] / 365.0
            self.cash += earned
            self.out.interest += earned
        for b in self.books:
            b.used = 0.0
        if p.contract_mode:
            self.roll(t)
        if not p.liquidate_at_close:
            self.liquidate(t, False)
        if p.fill_delay >= 1:
            if t >= p.fill_delay:
                self.load_targets(targets[t - p.fill_delay])
            for j in range(self.m):
                self.work_target(t, j, float(d.open[t, j]))
        else:
            self.load_targets(targets[t])
            for j in range(self.m):
                self.work_target(t, j, float(d.close[t, j]))
        self.close_of_bar(t)

    def close_of_bar(self, t: int) -> None:
        d = self.d
        for j, b in enumerate(self.books):
            if self.p.contract_mode and b.qty != 0 and t >= b.expiry:
                price = float(d.close[t, j]) if not math.isnan(d.close[t, j]) else b.mark
                self.fill(t, j, -b.qty, price, EXPIRY)
                b.pending = math.nan
        for j, b in enumerate(self.books):
            if not math.isnan(d.close[t, j]):
                b.mark = float(d.close[t, j])
                if b.qty != 0 and not (math.isnan(d.low[t, j]) or math.isnan(d.high[t, j])):
                    scale = b.qty * self.mk.point_value[j] * self.fx(t, j)
                    ends = [
                        b.trade["gross"] + (float(x) - b.avg) * scale
                        for x in (d.low[t, j], d.high[t, j])
                    ]
                    b.trade["mae"] = min(b.trade["mae"], *ends)
                    b.trade["mfe"] = max(b.trade["mfe"], *ends)
        if self.margin_check(t) and self.p.liquidate_at_close:
            self.liquidate(t, True)
        self.out.equity.append(self.equity(t))
        self.out.cash.append(self.cash)
        self.out.margin.append(self.requirement(t, self.mk.initial_margin))
        self.out.exposure.append(
            sum(
                abs(b.qty * b.mark) * self.mk.point_value[j] * self.fx(t, j)
                for j, b in enumerate(self.books)
                if b.qty != 0
            )
        )
        self.out.positions.append([b.qty for b in self.books])


def simulate_reference(
    data: SimData, mk: MarketConsts, par: SimParams, targets: F64
) -> ReferenceResult:
    """Run the reference simulator over every bar."""
    sim = ReferenceSimulator(data, mk, par)
    n = int(data.open.shape[0])
    for t in range(n):
        sim.step(t, targets)
    for j, b in enumerate(sim.books):
        if b.qty != 0:
            gross = b.trade["gross"] + b.qty * (b.mark - b.avg) * mk.point_value[j] * sim.fx(
                n - 1, j
            )
            sim.close_trade(j, n - 1, END, b.mark, gross, is_open=1)
    return sim.out
