"""``contango backtest sweep`` and ``contango backtest walkforward``: parameter research from a
YAML configuration (a backtest configuration plus ``sweep:`` and ``walkforward:`` blocks, see
``examples/research/``).

Exit codes: 0 ok; 1 the run found a problem (the strategy raised, the data cannot be traded);
2 the command was called wrongly (missing file, a mistake in the configuration, an unknown
root, dataset, strategy, parameter or metric).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table

from contango.cli.console import err as _err
from contango.cli.console import fail
from contango.cli.console import out as _out
from contango.data.continuous import ContinuousError
from contango.data.store import StoreError
from contango.engine.backtest_config import ConfigError
from contango.engine.run import StrategyError
from contango.research.config import OBJECTIVES, ResearchConfig, parse_research_config
from contango.research.sweep import metric_values
from contango.services.backtest_data import DataLoadError, LoadedData, load_data
from contango.services.research import (
    ResearchError,
    SweepReport,
    param_sets,
    run_config_sweep,
    write_sweep_report,
)
from contango.services.walkforward import run_config_walkforward, write_walkforward_report

ConfigArg = Annotated[
    Path,
    typer.Argument(help="The research configuration (YAML with a sweep: block), see examples/."),
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Results folder; default results/<name>-sweep or -walkforward."),
]
TopOpt = Annotated[int, typer.Option("--top", min=1, help="Rows of the ranked table to print.")]
RankOpt = Annotated[
    str | None,
    typer.Option(
        "--rank-by",
        help=f"Metric to rank by; default the sweep's objective. One of {', '.join(OBJECTIVES)}.",
    ),
]


def _read(path: Path) -> ResearchConfig:
    if not path.is_file():
        raise fail(f"no configuration file {path}", 2)
    try:
        config, _ = parse_research_config(path.read_text(encoding="utf-8"), str(path))
    except ConfigError as exc:
        raise fail(exc.problems, 2) from None
    return config


def _check_params(config: ResearchConfig) -> None:
    """Build the parameter sets before loading any data: a typo fails in a moment."""
    try:
        param_sets(config)
    except ResearchError as exc:
        raise fail(str(exc), 2) from None


def _load(config: ResearchConfig) -> LoadedData:
    try:
        with _err.status("loading markets"):
            return load_data(config.backtest)
    except (DataLoadError, StoreError) as exc:
        raise fail(str(exc), 2) from None
    except ContinuousError as exc:
        raise fail(str(exc), 1) from None


@contextmanager
def _bar(label: str) -> Iterator[Callable[[int, int], None]]:
    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=_err, transient=True) as progress:
        task = progress.add_task(label, total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield step


@contextmanager
def _run_errors() -> Iterator[None]:
    """Errors of a run: configuration mistakes are usage errors, failures of the run are 1."""
    try:
        yield
    except ResearchError as exc:
        raise fail(str(exc), 2) from None
    except StrategyError as exc:
        _err.print(escape(exc.traceback_text))
        raise fail(str(exc), 1) from None
    except ValueError as exc:  # data or targets the engine refuses
        raise fail(str(exc), 1) from None


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


_SHOWN = ("sharpe", "total_return", "cagr", "max_drawdown", "n_trades")


def _top_table(report: SweepReport, metric: str, top: int) -> Table:
    """The best ``top`` trials: the parameters the sweep varied, then the headline metrics."""
    dumps = [p.model_dump(mode="json") for p in report.result.params]
    varied = [k for k in dumps[0] if len({repr(d[k]) for d in dumps}) > 1]
    metrics = [metric, *(m for m in _SHOWN if m != metric)]
    shown = Table("rank", "trial", *varied, *metrics, title=f"Top {top} by {metric}")
    for place, trial in enumerate(report.ranking[:top], start=1):
        values = [_fmt(float(metric_values(report.result, m)[trial])) for m in metrics]
        shown.add_row(str(place), str(trial), *(str(dumps[trial][k]) for k in varied), *values)
    return shown


def _diagnostics_lines(report: SweepReport) -> list[str]:
    d = report.diagnostics
    dsr, pbo = d["deflated_sharpe"], d["pbo"]
    lines = [
        f"trials: {d['trials_this_sweep']} run now ({d['rejected_param_sets']} parameter sets "
        f"refused by the strategy), {d['registry']['n_trials']} recorded for "
        f"{d['registry']['strategy']} on this data",
        f"deflated Sharpe ratio: {_fmt(dsr['dsr'])} (annualised Sharpe "
        f"{_fmt(dsr['sharpe_annualised'])} against an expected best of "
        f"{_fmt(dsr['expected_max_sharpe_annualised'])} from {dsr['n_trials']} trials)",
    ]
    look = d["lookahead"]
    if look["clean"]:
        lines.append(f"look-ahead: none found at {look['cut_bars_checked']} cut bars")
    else:
        first = look["findings"][0]
        lines.append(
            f"look-ahead: FOUND - the target of bar {first['bar']} ({first['market']}) changes "
            f"when the data after bar {first['cut_bar']} is removed; see diagnostics.json"
        )
    if pbo["pbo"] is None:
        lines.append(f"probability of backtest overfitting: not computed ({pbo['why']})")
    else:
        lines.append(
            f"probability of backtest overfitting: {pbo['pbo']:.3f} ({pbo['combinations']:,} "
            f"CSCV combinations of {pbo['n_blocks']} blocks; IS best lost money OOS in "
            f"{pbo['prob_oos_loss']:.1%})"
        )
    return lines


def sweep(
    config_path: ConfigArg, out: OutOpt = None, top: TopOpt = 10, rank_by: RankOpt = None
) -> None:
    """Backtest every parameter set of the sweep, rank them, and diagnose overfitting (Deflated
    Sharpe Ratio over every trial recorded for this strategy and data, PBO by CSCV)."""
    config = _read(config_path)
    metric = rank_by or config.sweep.objective
    if metric not in OBJECTIVES:
        raise fail(f"--rank-by {metric!r}: unknown metric; one of {', '.join(OBJECTIVES)}", 2)
    if rank_by is not None:
        config = config.model_copy(
            update={"sweep": config.sweep.model_copy(update={"objective": metric})}
        )
    _check_params(config)
    loaded = _load(config)
    with _run_errors(), _bar("backtesting parameter sets") as step:
        report = run_config_sweep(config, loaded, progress=step)
    folder = out or Path("results") / f"{config.backtest.name}-sweep"
    paths = write_sweep_report(report, folder)
    _out.print(_top_table(report, metric, top))
    for line in _diagnostics_lines(report):
        _out.print(escape(line))
    _out.print(f"wrote {', '.join(escape(str(p)) for p in paths)}")


def walkforward(config_path: ConfigArg, out: OutOpt = None) -> None:
    """Walk forward: choose the best parameter set on each in-sample window, trade it on the
    following out-of-sample window, and report the stitched out-of-sample account and how
    stable the choice was."""
    config = _read(config_path)
    if config.walkforward is None:
        raise fail(f"{config_path}: a walkforward: block is required", 2)
    _check_params(config)
    loaded = _load(config)
    with _run_errors(), _bar("walk-forward windows") as step:
        result = run_config_walkforward(config, loaded, progress=step)
    folder = out or Path("results") / f"{config.backtest.name}-walkforward"
    paths = write_walkforward_report(result, loaded, folder)
    table = Table("window", "in-sample objective", "OOS Sharpe", "OOS return", "chosen")
    for o in result.outcomes:
        chosen = o.params.model_dump(mode="json")
        varied = ", ".join(f"{k}={chosen[k]}" for k in result.stability["params"])
        table.add_row(
            str(o.window.index),
            _fmt(o.is_objective),
            _fmt(o.oos_sharpe),
            f"{o.oos_return:.2%}",
            escape(varied),
        )
    _out.print(table)
    _out.print(
        f"out of sample: Sharpe {_fmt(result.sharpe)}, return {result.total_return:.2%}, max "
        f"drawdown {result.max_drawdown:.2%}; the most frequent parameter set was chosen in "
        f"{result.stability['modal_share']:.0%} of {len(result.outcomes)} windows"
    )
    _out.print(f"wrote {', '.join(escape(str(p)) for p in paths)}")
