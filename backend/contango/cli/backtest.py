"""``contango backtest``: run a backtest described by a YAML file and save its results.

Exit codes: 0 ok; 1 the run found a problem (the strategy raised, the data cannot be traded,
e.g. a roll without the outgoing contract's price); 2 the command was called wrongly (missing
file, a mistake in the configuration, an unknown root, dataset or strategy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from contango.cli.backtest_data import DataLoadError, LoadedData, load_data
from contango.data.continuous import ContinuousError
from contango.data.store import StoreError
from contango.engine.backtest_config import (
    BacktestConfig,
    ConfigError,
    describe_errors,
    parse_config,
)
from contango.engine.metrics import (
    EquityCurve,
    PerformanceMetrics,
    compute_metrics,
    traded_notional_from_fills,
    trades_from_records,
)
from contango.engine.result import BacktestResult, write_result
from contango.engine.run import StrategyError, run_backtest
from contango.engine.templates import get_template, list_templates

app = typer.Typer(help="Run backtests from YAML configurations.", no_args_is_help=True)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigArg = Annotated[
    Path, typer.Argument(help="The backtest configuration (YAML), see examples/.")
]
OutOpt = Annotated[
    Path | None,
    typer.Option("--out", help="Results folder; default results/<name>-<config hash>."),
]


def _fail(lines: list[str] | str, code: int) -> typer.Exit:
    for line in [lines] if isinstance(lines, str) else lines:
        _err.print(f"[red]error[/red] {escape(line)}")
    return typer.Exit(code)


def _read_config(path: Path) -> tuple[BacktestConfig, Any]:
    if not path.is_file():
        raise _fail(f"no configuration file {path}", 2)
    try:
        return parse_config(path.read_text(encoding="utf-8"), str(path))
    except ConfigError as exc:
        raise _fail(exc.problems, 2) from None


def _strategy(config: BacktestConfig, path: Path, root_node: Any) -> tuple[Any, Any]:
    try:
        strategy = get_template(config.strategy.name)
    except ValueError as exc:
        raise _fail(f"{path}: strategy.name: {exc}", 2) from None
    try:
        params = strategy.Params.model_validate(config.strategy.params)
    except ValidationError as exc:
        raise _fail(describe_errors(exc, root_node, str(path), ("strategy", "params")), 2) from None
    return strategy, params


def _load(config: BacktestConfig) -> LoadedData:
    with Progress(console=_err, transient=True) as progress:
        task = progress.add_task("loading markets", total=len(config.markets))

        def step(root: str) -> None:
            progress.update(task, advance=1, description=f"loading {root}")

        try:
            return load_data(config, progress=step)
        except (DataLoadError, StoreError) as exc:
            raise _fail(str(exc), 2) from None
        except ContinuousError as exc:
            raise _fail(str(exc), 1) from None


def metrics_of(result: BacktestResult, loaded: LoadedData) -> PerformanceMetrics:
    """The performance figures of a run."""
    import numpy as np

    point_value = np.array([s.point_value for s in loaded.specs])
    curve = EquityCurve(
        ts=result.ts,
        equity=result.equity,
        traded_notional=traded_notional_from_fills(result.fills, point_value, result.ts.shape[0]),
        gross_exposure=result.exposure,
    )
    return compute_metrics(curve, trades_from_records(result.trades), result.markets)


def _metrics_table(m: PerformanceMetrics, result: BacktestResult) -> Table:
    table = Table(title="Performance", show_header=False)
    cur = result.account_currency
    rows = [
        ("Start equity", f"{m.start_equity:,.2f} {cur}"),
        ("End equity", f"{m.end_equity:,.2f} {cur}"),
        ("Total return", f"{m.total_return:.2%}"),
        ("CAGR", f"{m.cagr:.2%}"),
        ("Volatility (annual)", f"{m.annual_volatility:.2%}"),
        ("Sharpe", f"{m.sharpe:.2f}"),
        ("Sortino", f"{m.sortino:.2f}"),
        ("Calmar", f"{m.calmar:.2f}"),
        ("Max drawdown", f"{m.max_drawdown:.2%} ({m.max_drawdown_days:.0f} days)"),
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
    config, root_node = _read_config(config_path)
    strategy, params = _strategy(config, config_path, root_node)
    loaded = _load(config)
    contracts_mode = any(m.mode == "contracts" for m in config.markets)
    simulation = config.simulation.model_copy(
        update={"contract_mode": "contracts" if contracts_mode else "continuous"}
    )
    try:
        with _err.status(
            f"simulating {loaded.bars.n_bars:,} bars x {loaded.bars.n_markets} markets"
        ):
            result = run_backtest(
                loaded.bars,
                loaded.specs,
                strategy=strategy,
                params=params,
                config=simulation,
                contracts=loaded.contracts,
                fx=loaded.fx,
                data_versions=loaded.data_versions,
                seed=config.seed,
                run_config=config.model_dump(mode="json"),
            )
    except StrategyError as exc:
        _err.print(escape(exc.traceback_text))
        raise _fail(str(exc), 1) from None
    except ValueError as exc:
        raise _fail(str(exc), 1) from None
    metrics = metrics_of(result, loaded)
    folder = out or Path("results") / f"{config.name}-{result.config_hash[:8]}"
    write_result(result, folder, metrics=metrics.as_json_dict())
    _out.print(_metrics_table(metrics, result))
    _out.print(
        f"config hash {result.config_hash[:12]}, data {loaded.data_versions}, "
        f"engine {result.engine_version}, seed {result.seed}"
    )
    _out.print(f"wrote {escape(str(folder))}")


@app.command("validate")
def validate(config_path: ConfigArg) -> None:
    """Check a configuration file and its strategy parameters without running it."""
    config, root_node = _read_config(config_path)
    _strategy(config, config_path, root_node)
    _out.print(
        f"{config_path}: ok ({len(config.markets)} markets, strategy {config.strategy.name})"
    )


@app.command("strategies")
def strategies() -> None:
    """List the strategy templates a configuration can name."""
    table = Table("name", "description")
    for info in list_templates():
        table.add_row(info.name, info.description)
    _out.print(table)
