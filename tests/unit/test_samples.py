"""The sample generator: determinism, exchange rules, curve shape, liquidity, minute bars."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contango.data.calendars import (
    business_days,
    contract_chain,
    last_trade_date,
    roll_date,
)
from contango.data.ingest import ImportResult, import_table
from contango.data.registry import load_registry
from contango.data.samples import generate_chain, load_samples, profile_for
from contango.data.samples.chain import tick_decimals, to_tick
from contango.data.samples.load import Progress, years_before
from contango.data.samples.processes import ar1, split_session
from contango.data.schema import BAR_SCHEMA
from contango.data.store import open_store
from contango.domain.contracts import ContractSpec
from contango.domain.symbols import parse_symbol

REGISTRY = load_registry()
ES, CL, GC, ZN = (REGISTRY.spec(r) for r in ("ES", "CL", "GC", "ZN"))
SEED = 1234


def daily(spec: ContractSpec, start: date, end: date, seed: int = SEED) -> pd.DataFrame:
    df: pd.DataFrame = generate_chain(spec, start=start, end=end, bar="1d", seed=seed).to_pandas()
    return df


def front_and_next(df: pd.DataFrame) -> pd.DataFrame:
    """Per trade date, the nearest and second-nearest expiry (by each contract's last bar)."""
    expiry = df.groupby("contract")["ts"].transform("max")
    ranked = df.assign(expiry=expiry).sort_values(["ts", "expiry"])
    ranked["rank"] = ranked.groupby("ts").cumcount()
    front = ranked[ranked["rank"] == 0].set_index("ts")
    nxt = ranked[ranked["rank"] == 1].set_index("ts")
    return front.merge(nxt, left_index=True, right_index=True, suffixes=("", "_next"))


def assert_bar_invariants(table: pa.Table, spec: ContractSpec) -> None:
    df = table.to_pandas()
    for column in ("open", "high", "low", "close"):
        ticks = df[column].to_numpy() / spec.tick_size
        assert np.abs(ticks - np.rint(ticks)).max() < 1e-6, column
        assert (df[column] > 0).all(), column
    assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
    assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()
    assert (df["volume"] >= 0).all()
    assert (df["open_interest"] >= 0).all()


# -- building blocks -------------------------------------------------------------------------
def test_ar1_matches_the_recursion_by_hand() -> None:
    # x[-1] = 2, phi = 0.5: x0 = 0.5*2 + 1 = 2; x1 = 0.5*2 + 0 = 1; x2 = 0.5*1 - 1 = -0.5
    out = ar1(np.array([1.0, 0.0, -1.0]), 0.5, 2.0)
    np.testing.assert_allclose(out, [2.0, 1.0, -0.5], rtol=0, atol=1e-15)


def test_ar1_matches_a_loop_across_many_blocks() -> None:
    shocks = np.random.default_rng(3).standard_normal(5000)
    phi = 0.9  # a block is only ~280 steps long, so the state crosses ~18 blocks
    expected = np.empty_like(shocks)
    state = 0.3
    for i, e in enumerate(shocks):
        state = phi * state + e
        expected[i] = state
    np.testing.assert_allclose(ar1(shocks, phi, 0.3), expected, rtol=1e-9, atol=1e-9)


def test_prices_round_to_the_tick_and_never_below_one_tick() -> None:
    # CL: 75.234 -> 7523.4 ticks of 0.01 -> 7523 ticks = 75.23; ZN: 110.01 / (1/64) = 7040.64
    # ticks -> 7041 ticks = 110.015625; 0.001 on a 0.25 grid rounds to 0, floored to one tick.
    assert to_tick(np.array([75.234]), 0.01)[0] == 75.23
    assert to_tick(np.array([110.01]), 1 / 64)[0] == 110.015625
    assert to_tick(np.array([0.001]), 0.25)[0] == 0.25
    assert tick_decimals(0.25) == 2
    assert tick_decimals(1 / 64) == 6
    assert tick_decimals(5e-07) == 7


def test_session_split_keeps_variances_and_extremes_follow_the_bridge_law() -> None:
    rng = np.random.default_rng(11)
    n, var, g = 400_000, 1e-4, 0.25
    shocks = np.sqrt(var) * rng.standard_normal(n)
    session, up, down = split_session(
        shocks, np.full(n, var), g, rng.standard_normal(n), rng.random((n, 2))
    )
    gap = shocks - session
    # Gap and session are independent with variances g*v and (1-g)*v: 2.5e-5 and 7.5e-5.
    assert abs(gap.var() / 2.5e-5 - 1) < 0.02
    assert abs(session.var() / 7.5e-5 - 1) < 0.02
    assert abs(np.corrcoef(gap, session)[0, 1]) < 0.01
    assert (up >= np.maximum(session, 0)).all()
    assert (down <= np.minimum(session, 0)).all()
    # For a bridge ending where it started, P(max > m) = exp(-2 m^2 / v), so
    # E[max] = sqrt(pi v / 8): with v = 7.5e-5, 0.0054270.
    flat, flat_up, _ = split_session(
        np.zeros(n), np.full(n, var), g, np.zeros(n), rng.random((n, 2))
    )
    assert (flat == 0).all()
    assert abs(flat_up.mean() / 0.0054270 - 1) < 0.01


def test_price_level_follows_the_point_value_of_the_spec() -> None:
    # ZC quoted in cents ($50 a point) near 450 is the same contract as 4.50 dollars at
    # $5,000 a point: same notional, 450 x 50 = 4.5 x 5,000 = 22,500 dollars.
    zc = REGISTRY.spec("ZC")
    in_dollars = replace(zc, point_value=5000.0, tick_size=0.0025, tick_value=12.5)
    assert profile_for(zc).level_for(zc) == pytest.approx(450.0)
    assert profile_for(in_dollars).level_for(in_dollars) == pytest.approx(4.5)


def test_twenty_years_ending_on_new_years_eve_start_on_new_years_day() -> None:
    assert years_before(date(2025, 12, 31), 20) == date(2006, 1, 1)
    # 29 Feb 2024 minus one year has no 29 Feb: the window starts the day after 28 Feb 2023.
    assert years_before(date(2024, 2, 29), 1) == date(2023, 3, 1)


# -- determinism -----------------------------------------------------------------------------
def test_same_seed_gives_identical_table_and_another_seed_differs() -> None:
    first = generate_chain(CL, start=date(2023, 1, 1), end=date(2024, 12, 31), bar="1d", seed=7)
    again = generate_chain(CL, start=date(2023, 1, 1), end=date(2024, 12, 31), bar="1d", seed=7)
    other = generate_chain(CL, start=date(2023, 1, 1), end=date(2024, 12, 31), bar="1d", seed=8)
    assert first.schema == BAR_SCHEMA
    assert first.equals(again)
    assert first.column("contract").equals(other.column("contract"))
    assert not first.column("close").equals(other.column("close"))


def test_a_day_has_the_same_bars_whatever_window_it_is_generated_in() -> None:
    long = daily(ES, date(2015, 1, 1), date(2024, 12, 31))
    short = daily(ES, date(2024, 6, 3), date(2024, 6, 28))
    merged = short.merge(long, on=["ts", "contract"], suffixes=("", "_long"))
    assert len(merged) == len(short) > 0
    for column in ("open", "high", "low", "close", "volume", "open_interest"):
        assert (merged[column] == merged[f"{column}_long"]).all(), column


def _digest(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def test_output_does_not_depend_on_pythons_string_hash_seed() -> None:
    code = (
        "from datetime import date; import hashlib, pyarrow as pa;"
        "from contango.data.registry import load_registry;"
        "from contango.data.samples import generate_chain;"
        "t = generate_chain(load_registry().spec('GC'), start=date(2024, 1, 1),"
        " end=date(2024, 3, 31), bar='1d', seed=5);"
        "s = pa.BufferOutputStream(); w = pa.ipc.new_stream(s, t.schema); w.write_table(t);"
        "w.close(); print(hashlib.sha256(s.getvalue().to_pybytes()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "987"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    here = generate_chain(GC, start=date(2024, 1, 1), end=date(2024, 3, 31), bar="1d", seed=5)
    assert out.stdout.strip() == _digest(here)


# -- exchange rules --------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [ES, CL, GC, ZN], ids=lambda s: s.root)
def test_bars_on_tick_grid_ohlc_consistent_and_sorted(spec: ContractSpec) -> None:
    table = generate_chain(
        spec, start=date(2020, 1, 1), end=date(2024, 12, 31), bar="1d", seed=SEED
    )
    assert_bar_invariants(table, spec)
    df = table.to_pandas()
    assert df.equals(df.sort_values(["contract", "ts"], kind="stable").reset_index(drop=True))
    assert not df.duplicated(["contract", "ts"]).any()


@pytest.mark.parametrize("spec", [ES, CL, GC, ZN], ids=lambda s: s.root)
def test_bars_only_on_business_days_and_never_after_last_trade(spec: ContractSpec) -> None:
    start, end = date(2022, 1, 1), date(2024, 12, 31)
    df = daily(spec, start, end)
    days = set(pd.DatetimeIndex(business_days(spec.calendar, start, end)).date)
    traded = set(df["ts"].dt.date)
    assert traded == days  # every session has bars and no bar falls on a holiday or weekend
    last_bar = df.groupby("contract")["ts"].max().dt.date
    for symbol, last in last_bar.items():
        expiry = last_trade_date(spec, parse_symbol(str(symbol)))
        assert last <= expiry
        if expiry <= end:
            assert last == expiry, f"{symbol} should trade until its last trade day"


def test_es_lists_about_a_year_of_quarterly_contracts() -> None:
    df = daily(ES, date(2024, 1, 1), date(2024, 12, 31))
    alive = df.groupby("ts")["contract"].nunique()
    # Quarterly, listed 12 months before expiry: 4 contracts alive, 5 in the days between a
    # new listing and the front's expiry.
    assert alive.min() >= 4
    assert alive.max() <= 5


def test_a_window_gets_the_contracts_of_the_calendar_chain() -> None:
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    df = daily(CL, start, end)
    chain = {c.long_symbol for c in contract_chain(CL, start, end)}
    assert chain <= set(df["contract"])


# -- curve -----------------------------------------------------------------------------------
def test_gold_deferred_is_above_the_front_on_most_days() -> None:
    pairs = front_and_next(daily(GC, date(2010, 1, 1), date(2024, 12, 31)))
    # Carry about 3% a year over the two months between gold's active contracts is about
    # 0.5%, some 20 ticks of 0.10 at 400 dollars an ounce: rounding cannot hide it.
    assert (pairs["close_next"] > pairs["close"]).mean() > 0.9


def test_crude_curve_spends_time_in_both_contango_and_backwardation() -> None:
    pairs = front_and_next(daily(CL, date(2006, 1, 1), date(2025, 12, 31)))
    contango = (pairs["close_next"] > pairs["close"]).mean()
    backwardation = (pairs["close_next"] < pairs["close"]).mean()
    assert contango > 0.2
    assert backwardation > 0.2


def test_natural_gas_winter_contracts_carry_a_premium_over_autumn() -> None:
    df = daily(REGISTRY.spec("NG"), date(2024, 3, 1), date(2024, 3, 31))
    month = df["contract"].str[2]
    # On the same days, January delivery (F) against the preceding October (V).
    jan = df[(month == "F") & df["contract"].str.endswith("2025")].set_index("ts")["close"]
    oct_ = df[(month == "V") & df["contract"].str.endswith("2024")].set_index("ts")["close"]
    assert (jan > oct_).all()


@pytest.mark.parametrize(
    ("root", "low", "high"),
    [
        ("ES", 0.12, 0.26),
        ("CL", 0.25, 0.48),
        ("NG", 0.4, 0.75),
        ("GC", 0.1, 0.23),
        ("ZN", 0.035, 0.09),
        ("6E", 0.05, 0.12),
    ],
)
def test_realised_volatility_is_of_the_markets_order(root: str, low: float, high: float) -> None:
    df = daily(REGISTRY.spec(root), date(2006, 1, 1), date(2025, 12, 31))
    df = df.sort_values(["contract", "ts"])
    df["ret"] = np.log(df["close"]).groupby(df["contract"]).diff()
    pairs = front_and_next(df)
    vol = pairs["ret"].std() * np.sqrt(252)
    assert low < vol < high


# -- liquidity -------------------------------------------------------------------------------
@pytest.mark.parametrize("spec", [ES, CL, GC], ids=lambda s: s.root)
def test_volume_moves_to_the_next_contract_at_the_roll(spec: ContractSpec) -> None:
    df = daily(spec, date(2021, 1, 1), date(2024, 12, 31)).set_index(["contract", "ts"])
    lead = profile_for(spec).roll_lead_days
    chain = contract_chain(spec, date(2021, 6, 1), date(2024, 6, 30))
    checked = 0
    for front, nxt in itertools.pairwise(chain):
        roll = roll_date(spec, front, business_days_before=lead)  # first notice or last trade
        after = pd.Timestamp(roll_date(spec, front, business_days_before=lead - 2), tz="UTC")
        before = pd.Timestamp(roll_date(spec, front, business_days_before=lead + 10), tz="UTC")
        if pd.Timestamp(roll, tz="UTC") < pd.Timestamp("2021-07-01", tz="UTC"):
            continue
        f, n = front.long_symbol, nxt.long_symbol
        volume = df["volume"]
        assert int(volume[(f, before)]) > int(volume[(n, before)])
        assert int(volume[(n, after)]) > int(volume[(f, after)])
        checked += 1
    assert checked >= 8


def test_open_interest_builds_up_then_runs_off_into_expiry() -> None:
    df = daily(ES, date(2022, 1, 1), date(2024, 12, 31))
    oi = df[df["contract"] == "ESZ2023"].set_index("ts")["open_interest"]
    peak_day = pd.Timestamp(str(oi.idxmax()))
    # Listed in December 2022, front from the September 2023 roll, expires 15 Dec 2023.
    assert pd.Timestamp("2023-09-01", tz="UTC") < peak_day < pd.Timestamp("2023-12-15", tz="UTC")
    assert oi.iloc[0] < 0.2 * oi.max()
    assert oi.iloc[-1] < 0.3 * oi.max()


# -- import ----------------------------------------------------------------------------------
@pytest.mark.parametrize("root", ["ES", "CL", "GC", "ZN", "NG", "ZC", "HE", "6J", "FDAX"])
def test_generated_daily_bars_import_without_errors_or_warnings(root: str) -> None:
    spec = REGISTRY.spec(root)
    table = generate_chain(
        spec, start=date(2024, 1, 1), end=date(2024, 12, 31), bar="1d", seed=SEED
    )
    result = import_table(table, dataset=f"{root}.1d", spec=spec)
    assert result.report.error_count == 0
    assert result.report.warning_count == 0, result.report.summary()
    assert open_store().read(f"{root}.1d").num_rows == table.num_rows


def test_load_samples_imports_daily_and_minute_sets_and_is_idempotent() -> None:
    def load(progress: Progress | None = None) -> list[ImportResult]:
        return load_samples(
            markets=["es", "GC"], years=1, minute_markets=["ES"], minute_days=2, progress=progress
        )

    seen: list[tuple[str, str]] = []
    results = load(lambda step: seen.append((step.dataset, step.stage)))
    assert [r.version.dataset for r in results] == ["ES.1d", "ES.1m", "GC.1d"]
    assert all(r.report.error_count == 0 for r in results)
    assert ("ES.1m", "done") in seen
    daily_es = results[0].version
    assert daily_es.start is not None
    assert daily_es.start.date() == date(2025, 1, 2)
    again = load()
    assert [r.version.id for r in again] == [r.version.id for r in results]


# -- minute bars -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def es_minutes() -> pd.DataFrame:
    table = generate_chain(ES, start=date(2024, 3, 4), end=date(2024, 3, 22), bar="1m", seed=SEED)
    assert_bar_invariants(table, ES)
    df: pd.DataFrame = table.to_pandas()
    local = df["ts"].dt.tz_convert("America/Chicago")
    # A Globex session opens at 17:00 the evening before its trade date.
    df["trade_date"] = (local + pd.Timedelta(hours=7)).dt.date
    df["local_minutes"] = local.dt.hour * 60 + local.dt.minute
    return df


def test_minutes_lie_inside_the_globex_session(es_minutes: pd.DataFrame) -> None:
    # 17:00-16:00 Chicago: nothing starts in the 16:00-17:00 maintenance hour, across the
    # 10 March 2024 change to daylight saving time.
    minutes = es_minutes["local_minutes"]
    assert not ((minutes >= 16 * 60) & (minutes < 17 * 60)).any()
    days = set(
        pd.DatetimeIndex(business_days(ES.calendar, date(2024, 3, 4), date(2024, 3, 22))).date
    )
    assert set(es_minutes["trade_date"]) == days
    per_day = es_minutes.groupby(["contract", "trade_date"]).size()
    assert (per_day == 23 * 60).all()


def test_minutes_add_up_to_the_daily_bars(es_minutes: pd.DataFrame) -> None:
    days = daily(ES, date(2024, 3, 4), date(2024, 3, 22))
    days["trade_date"] = days["ts"].dt.date
    agg = (
        es_minutes.sort_values("ts")
        .groupby(["contract", "trade_date"])
        .agg(
            open=("open", "first"),
            high=("high", "max"),
            low=("low", "min"),
            close=("close", "last"),
            volume=("volume", "sum"),
        )
    )
    by_day = days.set_index(["contract", "trade_date"])
    merged = agg.merge(by_day, left_index=True, right_index=True, how="left", suffixes=("", "_day"))
    for column in ("open", "high", "low", "close", "volume"):
        assert (merged[column] == merged[f"{column}_day"]).all(), column


def test_minutes_cover_the_front_and_next_contracts_only(es_minutes: pd.DataFrame) -> None:
    # ESH2024 expires Friday 15 March 2024; six business days earlier, 7 March, is its roll:
    # ESH2024 and ESM2024 until then, ESM2024 and ESU2024 from 8 March.
    lead = profile_for(ES).roll_lead_days
    esh = parse_symbol("ESH2024")
    assert lead == 6
    assert roll_date(ES, esh, business_days_before=lead) == date(2024, 3, 7)
    contracts = es_minutes.groupby("trade_date")["contract"].unique().map(sorted)
    assert contracts[date(2024, 3, 7)] == ["ESH2024", "ESM2024"]
    assert contracts[date(2024, 3, 8)] == ["ESM2024", "ESU2024"]
    assert contracts[date(2024, 3, 15)] == ["ESM2024", "ESU2024"]


def test_minute_volume_has_an_intraday_u_shape(es_minutes: pd.DataFrame) -> None:
    m = es_minutes["local_minutes"]
    by = es_minutes.groupby(m)["volume"].mean()
    opening = by[(by.index >= 8 * 60 + 30) & (by.index < 9 * 60)].mean()
    midday = by[(by.index >= 11 * 60 + 30) & (by.index < 12 * 60 + 30)].mean()
    closing = by[(by.index >= 14 * 60 + 45) & (by.index < 15 * 60 + 15)].mean()
    overnight = by[(by.index >= 20 * 60) | (by.index < 2 * 60)].mean()
    assert opening > 2 * midday
    assert closing > 2 * midday
    assert overnight < midday


def test_minute_bars_import_without_errors() -> None:
    table = generate_chain(
        CL, start=date(2024, 11, 18), end=date(2024, 11, 22), bar="1m", seed=SEED
    )
    result = import_table(table, dataset="CL.1m", spec=CL)
    assert result.report.error_count == 0
    assert result.report.warning_count == 0, result.report.summary()


# -- properties ------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    root=st.sampled_from(REGISTRY.roots()),
    offset=st.integers(min_value=0, max_value=365 * 30),
)
def test_any_seed_and_market_gives_valid_bars(seed: int, root: str, offset: int) -> None:
    spec = REGISTRY.spec(root)
    start = date(1994, 1, 1) + timedelta(days=offset)
    table = generate_chain(spec, start=start, end=start + timedelta(days=45), bar="1d", seed=seed)
    assert table.num_rows > 0
    assert_bar_invariants(table, spec)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), root=st.sampled_from(["ES", "HE", "KC"]))
def test_any_seed_gives_valid_minute_bars(seed: int, root: str) -> None:
    spec = REGISTRY.spec(root)
    table = generate_chain(spec, start=date(2023, 5, 1), end=date(2023, 5, 3), bar="1m", seed=seed)
    assert_bar_invariants(table, spec)


def test_unknown_bar_size_and_reversed_window_are_refused() -> None:
    with pytest.raises(ValueError, match="bar must be one of"):
        generate_chain(ES, start=date(2024, 1, 1), end=date(2024, 2, 1), bar="5m", seed=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="before start"):
        generate_chain(ES, start=date(2024, 2, 1), end=date(2024, 1, 1), seed=1)
