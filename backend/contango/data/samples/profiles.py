"""How each market behaves in the sample generator: volatility, carry, seasonality, liquidity.

The numbers are orders of magnitude a futures trader would recognise (ES about 18% a year, crude
about 35%, natural gas about 55%, ten-year notes about 6% in price terms), not estimates from
any data set. A market without its own entry gets its sector's behaviour and a price level
inferred from its margin, so a spec added to the registry still produces a plausible chain.

Price levels are given together with the point value they are quoted against: the generator
rescales them to the registry's point value, so a grain quoted in cents (ZC, $50 a point) and
the same grain quoted in dollars ($5,000 a point) get the same dollar notional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from contango.domain.contracts import ContractSpec


@dataclass(frozen=True, kw_only=True)
class MarketProfile:
    """Parameters of one market's synthetic price, curve and liquidity processes.

    ``level`` is the price around the reference date (end of 2025) at ``level_point_value``;
    the log price mean-reverts at ``reversion`` a year towards a line through it growing at
    ``trend`` a year. ``carry_*`` describe the annualised cost of carry (futures over spot per
    year of maturity): positive is contango, negative backwardation. ``seasonal_amplitude`` is
    half the log premium of delivery around ``seasonal_peak_month`` (a fractional month: 1.0
    is mid-January, 6.5 the turn of June and July) over delivery half a year away.
    """

    annual_vol: float
    vol_of_vol: float = 0.35
    vol_half_life_days: float = 30.0
    level: float
    level_point_value: float
    trend: float = 0.0
    reversion: float = 0.3
    carry_mean: float = 0.0
    carry_sd: float = 0.01
    carry_half_life_days: float = 120.0
    carry_spot_corr: float = 0.0
    seasonal_amplitude: float = 0.0
    seasonal_peak_month: float = 1.0
    listing_months: int = 12
    roll_lead_days: int = 5
    daily_volume: float = 50_000.0
    open_interest: float = 150_000.0
    overnight_share: float = 0.25

    def level_for(self, spec: ContractSpec) -> float:
        """The price level in the spec's quoting units (same notional per contract)."""
        return self.level * self.level_point_value / spec.point_value


def _p(**kwargs: float) -> dict[str, float]:
    return kwargs


# Sector behaviour. Equity indices and gold carry steadily (rates minus dividends, rates plus
# storage minus lease); energy and base metals have a convenience yield that swings the curve
# between contango and backwardation, and falls when the spot jumps (scarcity).
_SECTOR: dict[str, dict[str, float]] = {
    "equity_index": _p(
        annual_vol=0.18,
        vol_of_vol=0.45,
        trend=0.07,
        reversion=0.15,
        carry_mean=0.015,
        carry_sd=0.006,
        carry_half_life_days=250,
        listing_months=12,
        roll_lead_days=6,
        overnight_share=0.2,
    ),
    "rates": _p(
        annual_vol=0.06,
        vol_of_vol=0.3,
        reversion=0.3,
        carry_mean=-0.008,
        carry_sd=0.008,
        carry_half_life_days=250,
        listing_months=9,
        roll_lead_days=3,
        overnight_share=0.2,
    ),
    "energy": _p(
        annual_vol=0.35,
        vol_of_vol=0.4,
        reversion=0.35,
        carry_mean=0.01,
        carry_sd=0.12,
        carry_half_life_days=90,
        carry_spot_corr=-0.35,
        listing_months=12,
        roll_lead_days=4,
    ),
    "metals": _p(
        annual_vol=0.2,
        vol_of_vol=0.35,
        trend=0.03,
        reversion=0.1,
        carry_mean=0.03,
        carry_sd=0.005,
        carry_half_life_days=250,
        listing_months=12,
        roll_lead_days=3,
    ),
    "fx": _p(
        annual_vol=0.08,
        vol_of_vol=0.3,
        reversion=0.15,
        carry_mean=0.01,
        carry_sd=0.012,
        carry_half_life_days=400,
        listing_months=9,
        roll_lead_days=5,
        overnight_share=0.3,
    ),
    "grains": _p(
        annual_vol=0.25,
        vol_of_vol=0.35,
        reversion=0.4,
        carry_mean=0.04,
        carry_sd=0.05,
        carry_half_life_days=120,
        carry_spot_corr=-0.3,
        listing_months=12,
        roll_lead_days=3,
        seasonal_amplitude=0.05,
        seasonal_peak_month=5.5,
    ),
    "softs": _p(
        annual_vol=0.3,
        vol_of_vol=0.35,
        reversion=0.35,
        carry_mean=0.03,
        carry_sd=0.06,
        carry_half_life_days=120,
        carry_spot_corr=-0.2,
        listing_months=12,
        roll_lead_days=3,
    ),
    "livestock": _p(
        annual_vol=0.18,
        vol_of_vol=0.3,
        reversion=0.5,
        carry_mean=0.0,
        carry_sd=0.05,
        carry_half_life_days=90,
        listing_months=9,
        roll_lead_days=4,
    ),
}

# Per market: price level at its point value, annual volatility (None: the sector's),
# typical daily volume and open interest across the chain.
_MARKET_ROWS: tuple[tuple[str, float, float, float | None, float, float], ...] = (
    # root   level   point value   vol   daily volume   open interest
    ("ES", 5_500, 50, None, 1_500_000, 2_200_000),
    ("FDAX", 24_000, 25, 0.19, 80_000, 90_000),
    ("FESX", 5_500, 10, 0.18, 800_000, 3_000_000),
    ("FGBL", 128, 1_000, 0.07, 600_000, 1_200_000),
    ("MES", 5_500, 5, None, 1_000_000, 1_500_000),
    ("NQ", 19_000, 20, 0.23, 600_000, 250_000),
    ("MNQ", 19_000, 2, 0.23, 800_000, 200_000),
    ("YM", 42_000, 5, 0.16, 150_000, 90_000),
    ("RTY", 2_200, 50, 0.22, 150_000, 450_000),
    ("CL", 70, 1_000, None, 800_000, 1_800_000),
    ("BZ", 74, 1_000, 0.33, 200_000, 700_000),
    ("NG", 3.5, 10_000, 0.55, 400_000, 1_400_000),
    ("HO", 2.4, 42_000, 0.33, 150_000, 350_000),
    ("RB", 2.2, 42_000, 0.37, 150_000, 350_000),
    ("GC", 2_000, 100, 0.16, 250_000, 500_000),
    ("MGC", 2_000, 10, 0.16, 100_000, 50_000),
    ("SI", 25, 5_000, 0.28, 80_000, 150_000),
    ("HG", 4, 25_000, 0.24, 100_000, 250_000),
    ("PL", 1_000, 50, 0.25, 20_000, 70_000),
    ("ZN", 112, 1_000, None, 1_500_000, 4_000_000),
    ("ZB", 118, 1_000, 0.11, 350_000, 1_500_000),
    ("UB", 122, 1_000, 0.14, 250_000, 1_700_000),
    ("ZF", 108, 1_000, 0.04, 800_000, 5_000_000),
    ("ZT", 103, 2_000, 0.015, 400_000, 3_500_000),
    ("6E", 1.1, 125_000, None, 250_000, 700_000),
    ("6J", 0.0068, 12_500_000, 0.1, 150_000, 200_000),
    ("6B", 1.27, 62_500, 0.09, 100_000, 200_000),
    ("6A", 0.66, 100_000, 0.11, 100_000, 170_000),
    ("6C", 0.73, 100_000, 0.07, 80_000, 150_000),
    ("6S", 1.15, 125_000, 0.09, 30_000, 50_000),
    ("ZC", 450, 50, None, 350_000, 1_500_000),
    ("ZS", 1_100, 50, 0.22, 200_000, 700_000),
    ("ZW", 580, 50, 0.28, 120_000, 400_000),
    ("ZL", 45, 600, 0.27, 120_000, 500_000),
    ("ZM", 330, 100, 0.26, 100_000, 450_000),
    ("KC", 250, 375, 0.32, 25_000, 200_000),
    ("SB", 19, 1_120, 0.3, 100_000, 900_000),
    ("CC", 5_000, 10, 0.35, 30_000, 200_000),
    ("CT", 72, 500, 0.24, 30_000, 250_000),
    ("LE", 180, 400, 0.15, 50_000, 300_000),
    ("HE", 85, 400, 0.28, 40_000, 230_000),
    ("GF", 250, 500, 0.16, 10_000, 50_000),
)

_MARKETS = {row[0]: row for row in _MARKET_ROWS}

# Behaviour that differs from the market's sector: seasonality, trend, carry.
_MARKET_EXTRA: dict[str, dict[str, float]] = {
    "FESX": _p(carry_mean=0.0, carry_sd=0.008),
    "NQ": _p(trend=0.1),
    "MNQ": _p(trend=0.1),
    "RTY": _p(trend=0.05),
    "NG": _p(
        carry_mean=0.05,
        carry_sd=0.15,
        reversion=0.6,
        seasonal_amplitude=0.12,
        seasonal_peak_month=1.0,
    ),
    "HO": _p(seasonal_amplitude=0.05, seasonal_peak_month=1.0),
    "RB": _p(seasonal_amplitude=0.06, seasonal_peak_month=6.5),
    "HG": _p(carry_mean=0.01, carry_sd=0.04, carry_half_life_days=120, carry_spot_corr=-0.25),
    "6J": _p(carry_mean=0.035),
    "ZS": _p(seasonal_amplitude=0.04),
    "ZW": _p(seasonal_peak_month=1.0),
    "LE": _p(seasonal_amplitude=0.02, seasonal_peak_month=4.0),
    "HE": _p(seasonal_amplitude=0.1, seasonal_peak_month=6.5),
}

# Initial margin is roughly this fraction of notional per sector; used only to guess a price
# level for a market that has no entry above (Treasuries need far less margin than crude).
_MARGIN_SHARE: dict[str, float] = {
    "equity_index": 0.07,
    "rates": 0.025,
    "energy": 0.09,
    "metals": 0.07,
    "fx": 0.04,
    "grains": 0.06,
    "softs": 0.08,
    "livestock": 0.05,
}


def _market_values(root: str) -> dict[str, float]:
    values: dict[str, float] = {}
    row = _MARKETS.get(root)
    if row is not None:
        _, level, point_value, vol, volume, open_interest = row
        values = {
            "level": level,
            "level_point_value": point_value,
            "daily_volume": volume,
            "open_interest": open_interest,
        }
        if vol is not None:
            values["annual_vol"] = vol
    values.update(_MARKET_EXTRA.get(root, {}))
    return values


def profile_for(spec: ContractSpec) -> MarketProfile:
    """The generator's parameters for ``spec``: its own entry over its sector's behaviour."""
    values: dict[str, float] = dict(_SECTOR.get(spec.sector, _SECTOR["energy"]))
    values.update(_market_values(spec.root))
    if "level" not in values:
        notional = max(spec.initial_margin, 1.0) / _MARGIN_SHARE.get(spec.sector, 0.07)
        values["level"] = notional / spec.point_value
        values["level_point_value"] = spec.point_value
    ints = {"listing_months", "roll_lead_days"}
    floats = {k: float(v) for k, v in values.items() if k not in ints}
    profile = MarketProfile(
        **floats,
        listing_months=int(values["listing_months"]),
        roll_lead_days=int(values["roll_lead_days"]),
    )
    # A level below a few hundred ticks would make the tick grid coarser than the daily moves.
    floor = 400 * spec.tick_size
    if profile.level_for(spec) < floor or not math.isfinite(profile.level_for(spec)):
        profile = replace(profile, level=floor, level_point_value=spec.point_value)
    return profile
