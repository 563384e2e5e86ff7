"""``load_samples``: generate the bundled sample data and import it like any user file.

Every dataset goes through :func:`contango.data.ingest.import_table`, so the samples are
validated, versioned and carry an import report exactly as a vendor file would. The default
window ends on a fixed date so that every installation loads the same bars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal, NamedTuple

from contango.data.calendars import business_days
from contango.data.registry import get_registry
from contango.data.samples.generate import BarSize, generate_chain

if TYPE_CHECKING:
    from contango.data.ingest import ImportResult
    from contango.data.store import LocalParquetStore
    from contango.domain.contracts import ContractSpec

DEFAULT_END = date(2025, 12, 31)
DEFAULT_SEED = 20_251_231
DEFAULT_YEARS = 20
DEFAULT_MINUTE_MARKETS: tuple[str, ...] = ("ES", "CL", "GC")
DEFAULT_MINUTE_DAYS = 63  # about three months of sessions
SOURCE_NAME = "contango-samples"

Stage = Literal["generate", "import", "done"]


class LoadStep(NamedTuple):
    """Progress of one market: ``step`` of ``steps`` done; ``stage`` is what runs next."""

    market: str
    dataset: str
    stage: Stage
    step: int
    steps: int


Progress = Callable[[LoadStep], None]


class SamplePlan(NamedTuple):
    """One dataset to generate: which market, which bars, which window."""

    spec: ContractSpec
    bar: BarSize
    start: date
    end: date

    @property
    def dataset(self) -> str:
        """The dataset name, ``<ROOT>.<bar>`` (``ES.1d``)."""
        return f"{self.spec.root}.{self.bar}"


def years_before(end: date, years: int) -> date:
    """The day after the same date ``years`` earlier: ``years`` whole years ending on ``end``."""
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    try:
        anchor = end.replace(year=end.year - years)
    except ValueError:  # 29 February in a non-leap year
        anchor = end.replace(year=end.year - years, day=28)
    return anchor + timedelta(days=1)


def minute_window(spec: ContractSpec, end: date, sessions: int) -> date:
    """The first trade date of the last ``sessions`` business days ending on ``end``."""
    if sessions < 1:
        raise ValueError(f"minute sessions must be at least 1, got {sessions}")
    days = business_days(spec.calendar, end - timedelta(days=2 * sessions + 14), end)
    return date.fromisoformat(str(days[-min(sessions, days.shape[0])]))


def plan_samples(
    *,
    markets: Sequence[str] | None = None,
    years: int = DEFAULT_YEARS,
    end: date = DEFAULT_END,
    minute_markets: Sequence[str] = DEFAULT_MINUTE_MARKETS,
    minute_days: int = DEFAULT_MINUTE_DAYS,
) -> list[SamplePlan]:
    """The datasets :func:`load_samples` would create, market by market.

    Unknown roots raise the registry's error (with close matches). Minute markets not among
    ``markets`` are skipped, so ``--markets CL`` loads CL's minutes but not ES's.
    """
    registry = get_registry()
    specs = (
        list(registry.specs())
        if markets is None
        else [registry.spec(m) for m in dict.fromkeys(m.strip().upper() for m in markets)]
    )
    start = years_before(end, years)
    minute_roots = {registry.spec(m).root for m in minute_markets}
    plans: list[SamplePlan] = []
    for spec in specs:
        plans.append(SamplePlan(spec=spec, bar="1d", start=start, end=end))
        if spec.root in minute_roots and minute_days > 0:
            first = max(minute_window(spec, end, minute_days), start)
            plans.append(SamplePlan(spec=spec, bar="1m", start=first, end=end))
    return plans


def load_samples(
    *,
    markets: Sequence[str] | None = None,
    years: int = DEFAULT_YEARS,
    end: date = DEFAULT_END,
    seed: int = DEFAULT_SEED,
    minute_markets: Sequence[str] = DEFAULT_MINUTE_MARKETS,
    minute_days: int = DEFAULT_MINUTE_DAYS,
    store: LocalParquetStore | None = None,
    progress: Progress | None = None,
) -> list[ImportResult]:
    """Generate daily bars of ``years`` years for each market (all registry markets by
    default) and the 1-minute bars of ``minute_markets`` over their last ``minute_days``
    sessions, and import each dataset through the validating importer.

    Returns the import results in order. A dataset with validation errors raises the
    importer's error (the generator would be wrong, not the user).
    """
    from contango.data.ingest import import_table  # the importer pulls in the store
    from contango.data.store import SourceInfo

    plans = plan_samples(
        markets=markets,
        years=years,
        end=end,
        minute_markets=minute_markets,
        minute_days=minute_days,
    )
    steps = {p.spec.root: 2 * sum(q.spec.root == p.spec.root for q in plans) for p in plans}
    done = dict.fromkeys(steps, 0)
    results: list[ImportResult] = []
    for plan in plans:
        root = plan.spec.root

        def report(stage: Stage, root: str = root, dataset: str = plan.dataset) -> None:
            if progress is not None:
                progress(LoadStep(root, dataset, stage, done[root], steps[root]))

        report("generate")
        table = generate_chain(plan.spec, start=plan.start, end=plan.end, bar=plan.bar, seed=seed)
        done[root] += 1
        report("import")
        results.append(
            import_table(
                table,
                dataset=plan.dataset,
                spec=plan.spec,
                kind="bars",
                source=SourceInfo(name=f"{SOURCE_NAME} seed={seed}"),
                store=store,
            )
        )
        done[root] += 1
        report("done")
    return results
