"""Daily bars of a whole contract chain: the curve, OHLC on the tick grid, volume and open interest.

A contract's price is the market's latent spot times its carry factor
``exp(carry * years_to_expiry + season(delivery) - season(today))``: with positive carry the
curve is in contango, with negative carry in backwardation, and the seasonal term gives winter
gas or summer hogs their premium. At expiry the factor is one, so futures converge to spot.

Liquidity follows the roll: a contract trades little while deferred, takes over from its
predecessor around that one's roll date (a few business days before first notice or last
trade), and fades after its own. Open interest builds up over the contract's life on a slower
clock and runs off into expiry.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from contango.data.calendars import (
    FIRST_YEAR,
    business_days,
    contract_chain,
    exchange_holidays,
    first_notice_date,
    last_trade_date,
)
from contango.data.samples.processes import (
    EPOCH,
    F64,
    TRADING_DAYS,
    Days,
    LatentDaily,
    rng_for,
    unit_ar1,
    yearly_draws,
)
from contango.data.samples.profiles import MarketProfile
from contango.data.schema import BAR_SCHEMA
from contango.domain.contracts import ContractSpec

I64 = npt.NDArray[np.int64]
_EPOCH64 = np.datetime64(EPOCH.isoformat(), "D")
_NS_PER_DAY = 86_400 * 10**9
# Width, in business days, of the logistic ramps of volume and open interest around a roll.
_VOLUME_RAMP = 1.5
_OI_RAMP = 6.0


class Chain(NamedTuple):
    """The contracts alive in a window, in expiry order, with the dates that drive them."""

    symbols: tuple[str, ...]  # long symbols, e.g. "ESZ2024"
    listed: Days  # first day with a bar
    last_trade: Days
    roll: Days  # the business day volume moves on to the next contract
    prev_roll: Days  # the day this contract becomes the most traded one
    delivery: F64  # mid delivery month as a fraction of the year (for seasonality)


def _months_before(day: np.datetime64, months: int) -> np.datetime64:
    """Same day of the month ``months`` earlier (clipped to the 28th for short months)."""
    month = day.astype("datetime64[M]") - months
    offset = min(int((day - day.astype("datetime64[M]").astype("datetime64[D]")).astype(int)), 27)
    return np.datetime64(month.astype("datetime64[D]") + offset, "D")


def build_chain(spec: ContractSpec, profile: MarketProfile, start: date, end: date) -> Chain:
    """Every contract with at least one trading day in [start, end] and its key dates."""
    horizon = end + timedelta(days=31 * (profile.listing_months + 1))
    # Start a few months early so that every contract in the window has its real predecessor
    # (whose roll date starts its own liquidity): the bars must not depend on the window.
    earliest = date(FIRST_YEAR + 2, 1, 1)  # the calendar chain looks a year and a month back
    contracts = contract_chain(spec, max(start - timedelta(days=190), earliest), horizon)
    last = np.array([last_trade_date(spec, c) for c in contracts], dtype="datetime64[D]")
    notice = [first_notice_date(spec, c) for c in contracts]
    anchor = np.array(
        [
            min(lt, fn) if fn is not None else lt
            for lt, fn in zip(last.tolist(), notice, strict=True)
        ],
        dtype="datetime64[D]",
    )
    holidays = exchange_holidays(spec.calendar)
    roll = np.busday_offset(anchor, -profile.roll_lead_days, roll="backward", holidays=holidays)
    # Listed a little over `listing_months` ahead, so the new contract is trading before the
    # contract `listing_months` earlier expires (the exchange lists on that expiry or before).
    listed = (
        np.array([_months_before(d, profile.listing_months) for d in last], "datetime64[D]")
        - np.timedelta64(14, "D")
    ).astype("datetime64[D]")
    spacing = roll[1] - roll[0] if roll.shape[0] > 1 else np.timedelta64(91, "D")
    prev_roll = np.concatenate([[roll[0] - spacing], roll[:-1]]).astype("datetime64[D]")
    delivery = np.array([(c.month.value - 0.5) / 12.0 for c in contracts], dtype=np.float64)

    start64, end64 = np.datetime64(start, "D"), np.datetime64(end, "D")
    keep = (listed <= end64) & (last >= start64)
    symbols = tuple(c.long_symbol for c, k in zip(contracts, keep.tolist(), strict=True) if k)
    return Chain(
        symbols=symbols,
        listed=listed[keep],
        last_trade=last[keep],
        roll=roll[keep],
        prev_roll=prev_roll[keep],
        delivery=delivery[keep],
    )


class Rows(NamedTuple):
    """The (contract, day) pairs of a chain's bars, sorted by (contract symbol, day)."""

    contract: I64  # index into the Chain
    day: Days
    grid: I64  # index of the day in the latent weekday grid


def chain_rows(chain: Chain, days: Days) -> Rows:
    """One row per contract per business day from its listing to its last trade day."""
    order = np.argsort(np.array(chain.symbols, dtype=object), kind="stable")
    lo = np.searchsorted(days, chain.listed[order], side="left")
    hi = np.searchsorted(days, chain.last_trade[order], side="right")
    counts = np.maximum(hi - lo, 0)
    contract = np.repeat(order, counts)
    # Day index: lo of the row's contract plus the position within its run.
    starts = np.cumsum(counts) - counts
    within = np.arange(int(counts.sum())) - np.repeat(starts, counts)
    day = days[np.repeat(lo, counts) + within]
    grid = np.busday_count(_EPOCH64, day).astype(np.int64)
    return Rows(contract=contract.astype(np.int64), day=day, grid=grid)


def _season(profile: MarketProfile, year_fraction: F64) -> F64:
    peak = (profile.seasonal_peak_month - 0.5) / 12.0
    return np.asarray(
        profile.seasonal_amplitude * np.cos(2.0 * math.pi * (year_fraction - peak)),
        dtype=np.float64,
    )


def _year_fraction(day: Days) -> F64:
    since_new_year = day - day.astype("datetime64[Y]").astype("datetime64[D]")
    return np.asarray(since_new_year.astype(np.float64) / 365.25, dtype=np.float64)


def carry_factor(profile: MarketProfile, chain: Chain, rows: Rows, latent: LatentDaily) -> F64:
    """Futures over spot for each row: carry to expiry plus the delivery month's season."""
    last = chain.last_trade[rows.contract]
    years = (last - rows.day).astype(np.float64) / 365.25
    log_factor = latent.carry[rows.grid] * years
    if profile.seasonal_amplitude:
        # Today's season is read as of the delivery of a contract expiring today, so that the
        # factor is exactly one at expiry whatever the gap between last trade and delivery.
        gap = np.median(chain.delivery - _year_fraction(chain.last_trade))
        today = np.mod(_year_fraction(rows.day) + float(gap), 1.0)
        log_factor += _season(profile, chain.delivery[rows.contract]) - _season(profile, today)
    return np.exp(log_factor)


def tick_decimals(tick: float) -> int:
    """Decimal places that represent the tick exactly enough (0.25 -> 2, 1/64 -> 6)."""
    for decimals in range(13):
        if abs(round(tick, decimals) - tick) < 1e-12 * max(tick, 1.0):
            return decimals
    return 12


def to_tick(prices: F64, tick: float) -> F64:
    """Nearest price on the tick grid, never below one tick (futures here stay positive).

    Rounding is monotone, so ``low <= open, close <= high`` survives it.
    """
    ticks = np.maximum(np.rint(prices / tick), 1.0)
    return np.round(ticks * tick, tick_decimals(tick))


def _logistic(x: F64) -> F64:
    return 1.0 / (1.0 + np.exp(-x))


def liquidity(
    spec: ContractSpec,
    profile: MarketProfile,
    chain: Chain,
    rows: Rows,
    latent: LatentDaily,
    *,
    seed: int,
) -> tuple[I64, I64]:
    """Daily volume and open interest of every row (see the module docstring)."""
    holidays = exchange_holidays(spec.calendar)
    since_prev = np.busday_count(chain.prev_roll[rows.contract], rows.day, holidays=holidays)
    to_roll = np.busday_count(rows.day, chain.roll[rows.contract], holidays=holidays)
    x = since_prev.astype(np.float64)
    y = to_roll.astype(np.float64)
    rise, fall = _logistic(x / _VOLUME_RAMP), _logistic(y / _VOLUME_RAMP)
    deferred = 0.06 * np.exp(-np.maximum(-x, 0.0) / 60.0)
    share = rise * fall + deferred * (1.0 - rise) + 0.03 * rise * (1.0 - fall)
    oi_share = _logistic((x + 15.0) / _OI_RAMP) * _logistic((y + 1.5) / 1.5)
    oi_share += 0.12 * np.exp(-np.maximum(-x, 0.0) / 120.0) * (1.0 - _logistic(x / _OI_RAMP))

    market = yearly_draws(seed, spec.root, "activity", latent.days, 2)
    # Busy markets trade more: volume follows volatility, open interest a slow cycle.
    typical = profile.annual_vol / math.sqrt(TRADING_DAYS)
    activity = (latent.sigma / typical) ** 0.8 * np.exp(0.2 * market[:, 0] - 0.02)
    oi_cycle = np.exp(0.15 * unit_ar1(market[:, 1], 120.0) - 0.011)

    noise = _contract_noise(chain, rows, spec.root, seed)
    volume = profile.daily_volume * activity[rows.grid] * share * np.exp(0.3 * noise[:, 0] - 0.045)
    oi = profile.open_interest * oi_cycle[rows.grid] * oi_share * np.exp(0.04 * noise[:, 1])
    return np.maximum(np.rint(volume), 1).astype(np.int64), np.rint(oi).astype(np.int64)


def _contract_noise(chain: Chain, rows: Rows, root: str, seed: int) -> F64:
    """Per-row noise drawn per contract over its life, so it does not depend on the window."""
    out = np.empty((rows.day.shape[0], 2), dtype=np.float64)
    bounds = np.flatnonzero(np.diff(rows.contract)) + 1
    for lo, hi in zip(
        np.concatenate([[0], bounds]).tolist(),
        np.concatenate([bounds, [rows.day.shape[0]]]).tolist(),
        strict=True,
    ):  # one vectorised draw per contract
        if hi <= lo:
            continue
        i = int(rows.contract[lo])
        life = int(np.busday_count(chain.listed[i], chain.last_trade[i])) + 1
        rng = rng_for(seed, root, chain.symbols[i], "liquidity")
        draws = rng.standard_normal((life, 2))
        draws[:, 1] = unit_ar1(draws[:, 1], 10.0)
        at = np.clip(np.busday_count(chain.listed[i], rows.day[lo:hi]), 0, life - 1)
        out[lo:hi] = draws[at]
    return out


class DailyBars(NamedTuple):
    """A chain's daily bars before they become a table; the 1-minute bars build on them."""

    chain: Chain
    rows: Rows
    factor: F64  # carry factor of each row: contract price = latent price x factor
    open: F64
    high: F64
    low: F64
    close: F64
    volume: I64
    open_interest: I64


def daily_bars(
    spec: ContractSpec,
    profile: MarketProfile,
    latent: LatentDaily,
    *,
    start: date,
    end: date,
    seed: int,
) -> DailyBars:
    """The daily bars of every contract of ``spec`` alive in [start, end]."""
    chain = build_chain(spec, profile, start, end)
    days = business_days(spec.calendar, start, end)
    rows = chain_rows(chain, days)
    factor = carry_factor(profile, chain, rows, latent)
    tick = spec.tick_size
    volume, oi = liquidity(spec, profile, chain, rows, latent, seed=seed)
    return DailyBars(
        chain=chain,
        rows=rows,
        factor=factor,
        open=to_tick(latent.open[rows.grid] * factor, tick),
        high=to_tick(latent.high[rows.grid] * factor, tick),
        low=to_tick(latent.low[rows.grid] * factor, tick),
        close=to_tick(latent.close[rows.grid] * factor, tick),
        volume=volume,
        open_interest=oi,
    )


def daily_table(bars: DailyBars) -> pa.Table:
    """The canonical bar table of ``bars``, stamped at 00:00 UTC of each trade date."""
    ts = (bars.rows.day - np.datetime64("1970-01-01", "D")).astype(np.int64) * _NS_PER_DAY
    symbols = np.array(bars.chain.symbols, dtype=object)[bars.rows.contract]
    prices = (bars.open, bars.high, bars.low, bars.close)
    return bar_table(ts, symbols, prices, bars.volume, bars.open_interest)


def bar_table(
    ts: I64,
    contracts: npt.NDArray[np.object_],
    prices: tuple[F64, F64, F64, F64],
    volume: I64,
    open_interest: I64,
) -> pa.Table:
    """Assemble the canonical bar schema from columns already in (contract, ts) order;
    ``prices`` are open, high, low and close."""
    return pa.Table.from_arrays(
        [
            pa.array(ts, type=BAR_SCHEMA.field("ts").type),
            pa.array(contracts, type=pa.string()),
            *(pa.array(p, type=pa.float64()) for p in prices),
            pa.array(volume, type=pa.int64()),
            pa.array(open_interest, type=pa.int64()),
        ],
        schema=BAR_SCHEMA,
    )
