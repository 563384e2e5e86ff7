"""Synthetic but realistic futures contract chains, so Contango is useful without a data feed.

:func:`generate_chain` simulates one market: a spot with stochastic volatility, a term structure
from a carry that moves between contango and backwardation (with seasonality where the market
has it), daily OHLC on the tick grid on the exchange's business days, and volume and open
interest that migrate to the next contract around the roll. 1-minute bars of the front and next
contracts add up exactly to their daily bars. :func:`load_samples` imports the whole registry
through the same validating importer as user files. Same seed, same bars, bit for bit.
"""

from __future__ import annotations

from contango.data.samples.generate import BarSize, generate_chain
from contango.data.samples.load import DEFAULT_END, DEFAULT_SEED, load_samples
from contango.data.samples.profiles import MarketProfile, profile_for

__all__ = [
    "DEFAULT_END",
    "DEFAULT_SEED",
    "BarSize",
    "MarketProfile",
    "generate_chain",
    "load_samples",
    "profile_for",
]
