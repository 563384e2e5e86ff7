"""``contango backtest``: run a backtest described by a YAML file and save its results.

Exit codes: 0 ok; 1 the run found a problem (the strategy raised, the data cannot be traded,
e.g. a roll without the outgoing contract's price); 2 the command was called wrongly (missing
file, a mistake in the configuration, an unknown root, dataset or strategy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from contango.cli.console import err as _err
from contango.cli.console import fail
from contango.cli.console import out as _out
from contango.data.continuous import ContinuousError
from contango.data.store import StoreError
from contango.engine.backtest_config import ConfigError
from contango.engine.bootstrap import BootstrapResult, Interval
from contango.engine.metrics import PerformanceMetrics
from contango.engine.result import BacktestResult
from contango.engine.run import StrategyError
from contango.engine.templates import list_templates
from contango.services.backtest_data import DataLoadError, LoadedData
from contango.services.backtests import (
    BacktestPlan,
    load_plan_data,
    read_plan,
    run_plan,
    save_run,
)

app = typer.Typer(help="Run backtests from YAML configurations.", no_args_is_help=True)

ConfigArg = Annotated[
    Path, typer.Argument(help="The backtest configuration (YAML), see examples/.")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Results folder; default results/<name>-<config hash>."),
]


def _plan(path: Path) -> BacktestPlan:
    try:
        return read_plan(path)
    except ConfigError as exc:
        raise fail(exc.problems, 2) from None


def _load(plan: BacktestPlan) -> LoadedData:
    markets = plan.config.markets
    with Progress(console=_err, transient=True) as progress:
        task = progress.add_task("loading markets", total=len(markets))

        def step(root: str) -> None:
            progress.update(task, advance=1, description=f"loading {root}")

        try:
            return load_plan_data(plan, progress=step)
        except (DataLoadError, StoreError) as exc:
            raise fail(str(exc), 2) from None
        except ContinuousError as exc:
            raise fail(str(exc), 1) from None


def _interval(interval: Interval, spec: str) -> str:
    return f" [{interval.lower:{spec}}, {interval.upper:{spec}}]"


def _metrics_table(
    m: PerformanceMetrics, result: BacktestResult, ci: BootstrapResult | None
) -> Table:
    table = Table(title="Performance", show_header=False)
    cur = result.account_currency
    rows = [
        ("Start equity", f"{m.start_equity:,.2f} {cur}"),
        ("End equity", f"{m.end_equity:,.2f} {cur}"),
        ("Total return", f"{m.total_return:.2%}"),
        ("CAGR", f"{m.cagr:.2%}"),
        ("Volatility (annual)", f"{m.annual_volatility:.2%}"),
        ("Sharpe", f"{m.sharpe:.2f}{_interval(ci.sharpe, '.2f') if ci else ''}"),
        ("Sortino", f"{m.sortino:.2f}"),
        ("Calmar", f"{m.calmar:.2f}"),
        (
            "Max drawdown",
            f"{m.max_drawdown:.2%}{_interval(ci.max_drawdown, '.1%') if ci else ''} "
            f"({m.max_drawdown_days:.0f} days)",
        ),
        ("Trades", f"{m.n_trades}"),
        ("Win rate", f"{m.win_rate:.1%}"),
        ("Profit factor", f"{m.profit_factor:.2f}"),
        ("Expectancy", f"{m.expectancy:,.2f} {cur}"),
        ("Turnover (annual)", f"{m.turnover:.1f}x"),
        (
            "Rolls / margin calls / rejections",
            f"{result.rolls.shape[0]} / {result.margin_calls.shape[0]} / "
            f"{result.rejections.shape[0]}",
        ),
        ("Interest", f"{result.interest:,.2f} {cur}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


@app.command("run")
def run(config_path: ConfigArg, out: OutOpt = None) -> None:
    """Load the data, run the strategy, print the metrics and write a results folder."""
    plan = _plan(config_path)
    loaded = _load(plan)
    try:
        with _err.status(
            f"simulating {loaded.bars.n_bars:,} bars x {loaded.bars.n_markets} markets"
        ):
            done = run_plan(plan, loaded)
    except StrategyError as exc:
        _err.print(escape(exc.traceback_text))
        raise fail(str(exc), 1) from None
    except ValueError as exc:
        raise fail(str(exc), 1) from None
    folder = save_run(done, out)
    result = done.result
    _out.print(_metrics_table(done.metrics, result, done.intervals))
    if done.intervals is not None:
        _out.print(
            f"[dim]brackets: {done.intervals.confidence:.0%} intervals, "
            f"{done.intervals.method}, {done.intervals.n_resamples} resamples[/dim]"
        )
    _out.print(
        f"config hash {result.config_hash[:12]}, data {loaded.data_versions}, "
        f"engine {result.engine_version}, seed {result.seed}"
    )
    _out.print(f"wrote {escape(str(folder))}")


@app.command("validate")
def validate(config_path: ConfigArg) -> None:
    """Check a configuration file and its strategy parameters without running it."""
    plan = _plan(config_path)
    _out.print(
        f"{config_path}: ok ({len(plan.config.markets)} markets, "
        f"strategy {plan.config.strategy.name})"
    )


@app.command("strategies")
def strategies() -> None:
    """List the strategy templates a configuration can name."""
    table = Table("name", "description")
    for info in list_templates():
        table.add_row(info.name, info.description)
    _out.print(table)


def _register_research() -> None:
    # Sweeps and walk-forward live in their own module; they belong to the `backtest` group.
    from contango.cli import research

    app.command("sweep")(research.sweep)
    app.command("walkforward")(research.walkforward)


_register_research()
