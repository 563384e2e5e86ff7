"""The backtest use case: results carry seeded bootstrap intervals around the point figures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from contango.data.samples.load import load_samples
from contango.engine.bootstrap import bootstrap_metrics
from contango.services.backtests import load_plan_data, read_plan, run_plan, save_run

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_results_record_bootstrap_intervals_seeded_by_the_configuration(tmp_path: Path) -> None:
    load_samples(markets=["ES"], years=2, minute_markets=())
    plan = read_plan(EXAMPLES / "ma_crossover_es.yaml")
    loaded = load_plan_data(plan)
    first = run_plan(plan, loaded)
    again = run_plan(plan, loaded)
    assert first.intervals is not None
    assert first.intervals == again.intervals  # same seed, same draws

    # Independently: the same bootstrap on the run's equity with the configuration's seed.
    expected = bootstrap_metrics(
        first.result.equity,
        np.random.default_rng(plan.config.seed),
        periods_per_year=first.metrics.periods_per_year,
    )
    assert first.intervals == expected
    sharpe = first.intervals.sharpe
    assert sharpe.estimate == first.metrics.sharpe
    assert sharpe.lower < sharpe.estimate < sharpe.upper
    drawdown = first.intervals.max_drawdown
    assert drawdown.lower <= drawdown.upper

    folder = save_run(first, tmp_path / "run")
    saved = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    intervals = saved["metrics"]["confidence_intervals"]
    assert intervals["confidence"] == 0.95
    assert intervals["sharpe"] == [sharpe.estimate, sharpe.lower, sharpe.upper]
