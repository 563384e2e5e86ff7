"""A golden two-market run worked out by hand, bar by bar; both simulator twins must match.

ES: $50/point, tick 0.25 ($12.50); fees 2.00 + 1.00 per contract per side; 1 tick slippage.
CL: $1,000/point, tick 0.01 ($10); fees 2.50 per contract per side; 1 tick slippage.
Capital 100,000. Signals on bar 0: ES +2, CL -1; on bar 1: both flat. Fills at the next open.

bar 1 open : buy 2 ES at 4002 + 0.25 = 4002.25 (fees 6.00); sell 1 CL at 70.50 - 0.01 = 70.49
             (fees 2.50)                                     cash 100,000 - 8.50 = 99,991.50
bar 1 close: ES 2 x (4008 - 4002.25) x 50 = +575; CL -1 x (70.80 - 70.49) x 1000 = -310
             equity 99,991.50 + 575 - 310 = 100,256.50
             initial margin 2 x 12,000 + 6,000 = 30,000
             exposure 2 x 4008 x 50 + 70.80 x 1000 = 471,600
bar 2 open : sell 2 ES at 4010 - 0.25 = 4009.75: 2 x 7.50 x 50 = +750 (fees 6.00)
             buy 1 CL at 71.00 + 0.01 = 71.01: -1 x 0.52 x 1000 = -520 (fees 2.50)
             cash 99,991.50 + 750 - 6 - 520 - 2.50 = 100,213.00 = equity on bars 2 and 3
trades     : ES gross 750, fees 12, net 738, slippage 4 x 12.50 = 50
             CL gross -520, fees 5, net -525, slippage 2 x 10 = 20
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from engine_twins import CL, ES, TWINS, Twin, make_bars

from contango.engine.config import SimulationConfig

NAN = math.nan
GOLDEN_EQUITY = [100_000.0, 100_256.5, 100_213.0, 100_213.0]
GOLDEN_CASH = [100_000.0, 99_991.5, 100_213.0, 100_213.0]
GOLDEN_MARGIN = [0.0, 30_000.0, 0.0, 0.0]
GOLDEN_EXPOSURE = [0.0, 471_600.0, 0.0, 0.0]
GOLDEN_FILLS = [  # (bar, market, qty, price, fees)
    (1, 0, 2.0, 4002.25, 6.0),
    (1, 1, -1.0, 70.49, 2.5),
    (2, 0, -2.0, 4009.75, 6.0),
    (2, 1, 1.0, 71.01, 2.5),
]
GOLDEN_TRADES = [  # (market, gross, fees, net, slippage) in exit order
    (0, 750.0, 12.0, 738.0, 50.0),
    (1, -520.0, 5.0, -525.0, 20.0),
]


@pytest.mark.parametrize("name", sorted(TWINS))
def test_two_market_golden_run(name: str) -> None:
    twin: Twin = TWINS[name]
    bars = make_bars(
        np.array([[4000.0, 70.00], [4002.0, 70.50], [4010.0, 71.00], [4020.0, 70.00]]),
        close=np.array([[4001.0, 70.20], [4008.0, 70.80], [4015.0, 70.50], [4018.0, 69.50]]),
        markets=("ES", "CL"),
    )
    specs = [
        ES.model_copy(update={"commission": 2.0, "exchange_fee": 1.0}),
        CL.model_copy(update={"commission": 2.5}),
    ]
    targets = np.array([[2, -1], [0, 0], [NAN, NAN], [NAN, NAN]])
    out = twin(bars, specs, targets, SimulationConfig(capital=100_000.0, slippage_ticks=1.0))
    np.testing.assert_allclose(out.equity, GOLDEN_EQUITY, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out.cash, GOLDEN_CASH, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out.margin, GOLDEN_MARGIN, rtol=0, atol=1e-6)
    np.testing.assert_allclose(out.exposure, GOLDEN_EXPOSURE, rtol=0, atol=1e-6)
    fills = [(f["bar"], f["market"], f["qty"], f["price"], f["fees"]) for f in out.fills]
    np.testing.assert_allclose(np.array(fills), np.array(GOLDEN_FILLS), rtol=0, atol=1e-9)
    trades = [(t["market"], t["pnl_gross"], t["fees"], t["pnl_net"]) for t in out.trades]
    np.testing.assert_allclose(
        np.array(trades), np.array([g[:4] for g in GOLDEN_TRADES]), rtol=0, atol=1e-6
    )
    if name == "kernel":  # the reference keeps slippage per fill only
        assert [t["slippage"] for t in out.trades] == pytest.approx([g[4] for g in GOLDEN_TRADES])
    # per fill: ES 2 contracts x 12.50 = 25, CL 1 contract x 10 = 10; per trade 50 and 20
    slippage = sorted(f["slippage"] for f in out.fills)
    assert slippage == pytest.approx([10.0, 10.0, 25.0, 25.0])
