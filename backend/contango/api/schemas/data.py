"""Models of the market data endpoints: contracts, datasets (versions, lineage, bars, uploads)
and continuous series.

Responses are built from the data layer's own types (``from_*`` constructors) so that a field
means the same in the API as in the store manifest and on the command line.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contango.data.store_versions import DatasetVersion, SourceInfo
from contango.data.validation import ValidationReport
from contango.domain.contracts import ContractSpec
from contango.domain.expiry_rules import ExpiryRule

DATASET_NAME = r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$"
ROOT = r"^[A-Za-z0-9]{1,8}$"
CellValue = str | float | int | None


class _Page(BaseModel):
    total: int = Field(description="Items matching the filters, over all pages.", examples=[32])
    limit: int = Field(description="Page size asked for.", examples=[50])
    offset: int = Field(description="Items skipped.", examples=[0])


# -- contracts ---------------------------------------------------------------------------------


class ExpiryRuleOut(BaseModel):
    """An exchange date rule: anchor day, adjustment to a business day, business-day offset."""

    anchor: str = Field(examples=["nth_weekday"])
    month_offset: int = Field(description="Months relative to the delivery month.")
    nth: int | None = None
    weekday: int | None = Field(default=None, description="0 = Monday.")
    day: int | None = None
    adjust: str = Field(examples=["preceding"])
    business_days: int = Field(description="Signed business days stepped from the anchor.")
    text: str = Field(examples=["third Friday of the contract month"])

    @classmethod
    def from_rule(cls, rule: ExpiryRule | None) -> ExpiryRuleOut | None:
        """The rule as JSON, or None when the market has none."""
        if rule is None:
            return None
        return cls(**{name: getattr(rule, name) for name in cls.model_fields})


class MarketSummary(BaseModel):
    """One market of the contract registry, as listed."""

    root: str = Field(examples=["ES"])
    name: str = Field(examples=["E-mini S&P 500"])
    exchange: str = Field(examples=["CME"])
    sector: str = Field(examples=["equity_index"])
    currency: str = Field(examples=["USD"])
    point_value: float = Field(
        description="Currency per 1.0 price move per contract.", examples=[50]
    )
    tick_size: float = Field(examples=[0.25])
    tick_value: float = Field(description="tick_size x point_value.", examples=[12.5])
    price_unit: str = Field(examples=["index points"])
    price_quote: str = Field(description="decimal, or Treasury 32nds styles.", examples=["decimal"])
    months: str = Field(description="Listed month codes.", examples=["HMUZ"])
    settlement: str = Field(examples=["cash"])
    initial_margin: float = Field(description="Indicative, in the market's currency.")
    maintenance_margin: float = Field(description="Indicative, in the market's currency.")

    @classmethod
    def fields_of(cls, spec: ContractSpec) -> dict[str, Any]:
        """The summary fields of a spec."""
        return {
            **{name: getattr(spec, name) for name in _SPEC_FIELDS},
            "months": "".join(m.letter for m in spec.listed_months),
        }

    @classmethod
    def from_spec(cls, spec: ContractSpec) -> MarketSummary:
        """The summary of one spec."""
        return cls(**cls.fields_of(spec))


_SPEC_FIELDS = (
    *("root", "name", "exchange", "sector", "currency", "point_value", "tick_size"),
    *("tick_value", "price_unit", "price_quote", "settlement"),
    *("initial_margin", "maintenance_margin"),
)


class TradingHoursOut(BaseModel):
    """The regular session in exchange local time (close before open: spans midnight)."""

    open: str = Field(examples=["17:00"])
    close: str = Field(examples=["16:00"])
    timezone: str = Field(examples=["America/Chicago"])


class DefaultRollOut(BaseModel):
    """The default calendar roll: business days before the reference date."""

    business_days_before: int = Field(examples=[5])
    reference: str = Field(
        description="first_notice for physically delivered markets with a first notice day, "
        "else last_trade.",
        examples=["last_trade"],
    )


class MarketSpec(MarketSummary):
    """A market's full specification: multiplier, tick, margins, expiry rules, roll rule."""

    description: str
    aliases: list[str]
    trading_hours: TradingHoursOut
    calendar: str = Field(description="Exchange holiday calendar.", examples=["CME_Equity"])
    last_trade_rule: ExpiryRuleOut
    first_notice_rule: ExpiryRuleOut | None
    default_roll: DefaultRollOut

    @classmethod
    def from_spec_and_roll(cls, spec: ContractSpec, roll_days: int) -> MarketSpec:
        """The full view of ``spec`` with its default roll of ``roll_days`` days."""
        hours = spec.trading_hours
        last_trade = ExpiryRuleOut.from_rule(spec.last_trade_rule)
        assert last_trade is not None
        return cls(
            **MarketSummary.fields_of(spec),
            description=spec.description,
            aliases=list(spec.aliases),
            trading_hours=TradingHoursOut(
                open=hours.open, close=hours.close, timezone=hours.timezone
            ),
            calendar=spec.calendar,
            last_trade_rule=last_trade,
            first_notice_rule=ExpiryRuleOut.from_rule(spec.first_notice_rule),
            default_roll=DefaultRollOut(
                business_days_before=roll_days,
                reference="first_notice" if spec.first_notice_rule else "last_trade",
            ),
        )


class MarketPage(_Page):
    """A page of markets."""

    items: list[MarketSummary]


class ContractDates(BaseModel):
    """One listed contract and its dates on the exchange calendar."""

    contract: str = Field(description="Four-digit-year symbol.", examples=["ESZ2024"])
    year: int = Field(examples=[2024])
    month: str = Field(description="Month code.", examples=["Z"])
    last_trade: date = Field(examples=["2024-12-20"])
    first_notice: date | None = Field(description="None for cash-settled markets.")
    roll: date = Field(description="Calendar roll date under the asked roll days and reference.")


class ContractChainPage(_Page):
    """The contracts expiring between two dates (and the one after), in expiry order."""

    root: str = Field(examples=["ES"])
    items: list[ContractDates]


# -- datasets ----------------------------------------------------------------------------------


class SourceOut(BaseModel):
    """The file a version was imported from."""

    name: str = Field(examples=["ESZ24.csv"])
    hash: str | None = Field(description="sha256 of the file's bytes.", examples=["sha256:9f2c"])
    size: int | None = Field(description="Bytes.", examples=[48213])

    @classmethod
    def from_source(cls, source: SourceInfo | None) -> SourceOut | None:
        """The source as JSON."""
        return None if source is None else cls(**source.__dict__)


class FindingOut(BaseModel):
    """One problem in a file: where (1-based data row, column), what value, how bad."""

    severity: Literal["error", "warning"]
    code: str = Field(examples=["high_below_low"])
    message: str
    row: int | None = Field(default=None, description="1 = first row after the header.")
    column: str | None = Field(default=None, examples=["high"])
    value: str | None = Field(default=None, examples=["5098.25"])
    contract: str | None = Field(default=None, examples=["ESZ2024"])


class ReportOut(BaseModel):
    """A validation report: listed findings (at most 100 per code) and total counts."""

    source: str = Field(examples=["ESZ24.csv"])
    rows: int = Field(description="Data rows read.")
    ok: bool = Field(description="No errors: the file can be imported.")
    error_count: int
    warning_count: int
    counts: dict[str, int] = Field(description="Findings per code, including unlisted ones.")
    findings: list[FindingOut]

    @classmethod
    def from_report(cls, report: ValidationReport) -> ReportOut:
        """The report as JSON."""
        return cls(
            source=report.source,
            rows=report.rows,
            ok=report.ok,
            error_count=report.error_count,
            warning_count=report.warning_count,
            counts=dict(report.counts),
            findings=[FindingOut(**f.to_dict()) for f in report.findings],
        )


class VersionSummary(BaseModel):
    """One version in a dataset's lineage."""

    id: str = Field(description="Hash of (parent id, content hash).", examples=["3fa9c2d1e0b4"])
    parent: str | None = Field(description="Previous version; None for the first.")
    created_at: datetime
    author: str = Field(examples=["analyst@desk-a.example.com"])
    rows: int
    rows_added: int
    rows_replaced: int
    contract_count: int
    start: datetime | None = Field(description="First bar or tick (UTC).")
    end: datetime | None = Field(description="Last bar or tick (UTC).")
    source: SourceOut | None
    warning_count: int

    @classmethod
    def from_version(cls, version: DatasetVersion) -> VersionSummary:
        """The summary of one stored version."""
        return cls(
            **_version_fields(version),
            contract_count=len(version.contracts),
            warning_count=0 if version.report is None else version.report.warning_count,
        )


def _version_fields(version: DatasetVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "parent": version.parent,
        "created_at": version.created_at,
        "author": version.author,
        "rows": version.rows,
        "rows_added": version.rows_added,
        "rows_replaced": version.rows_replaced,
        "start": version.start,
        "end": version.end,
        "source": SourceOut.from_source(version.source),
    }


class VersionManifest(BaseModel):
    """A version's manifest: its lineage and identity, without the fragment list."""

    dataset: str = Field(examples=["ES.1d"])
    kind: Literal["bars", "ticks"]
    id: str
    parent: str | None
    content_hash: str = Field(description="Hash of the version's fragments (its rows).")
    created_at: datetime
    author: str
    rows: int
    rows_added: int
    rows_replaced: int
    contracts: list[str] = Field(examples=[["ESH2024", "ESM2024"]])
    start: datetime | None
    end: datetime | None
    source: SourceOut | None
    report: ReportOut | None = Field(description="Warnings of the import that made it.")
    fragment_count: int

    @classmethod
    def from_version(cls, version: DatasetVersion) -> VersionManifest:
        """The manifest of one stored version."""
        return cls(
            **_version_fields(version),
            dataset=version.dataset,
            kind=version.kind,
            content_hash=version.content_hash,
            contracts=list(version.contracts),
            report=None if version.report is None else ReportOut.from_report(version.report),
            fragment_count=len(version.fragments),
        )


class DatasetItem(BaseModel):
    """A dataset of the store the caller may see, with its latest version."""

    name: str = Field(examples=["ES.1d"])
    kind: Literal["bars", "ticks"]
    shared: bool = Field(description="Shared with everyone (e.g. the bundled samples).")
    latest: VersionSummary
    version_count: int


class DatasetPage(_Page):
    """A page of datasets."""

    items: list[DatasetItem]


class DatasetDetail(DatasetItem):
    """A dataset with its whole lineage, newest version first."""

    versions: list[VersionSummary]


class ColumnsPage(_Page):
    """Rows as columns (one JSON array per column); timestamps are ISO 8601 UTC strings with
    nanoseconds; absent values are null."""

    columns: dict[str, list[CellValue]] = Field(
        examples=[{"ts": ["2024-03-04T00:00:00.000000000Z"], "close": [5100.25]}]
    )


class BarsPage(ColumnsPage):
    """Rows of one dataset version, sorted by (contract, ts)."""

    dataset: str = Field(examples=["ES.1d"])
    version: str


class UploadOut(BaseModel):
    """What an upload did: the version (new, or the latest when nothing changed) and the
    file's report (warnings only: a file with errors imports nothing)."""

    dataset: str
    created: bool = Field(description="False when every row was already stored as it is.")
    dataset_created: bool = Field(description="This upload created the dataset.")
    version: VersionManifest
    report: ReportOut


class FileForm(BaseModel):
    """Form fields of an uploaded file, as the options of ``contango data validate``."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["bars", "ticks"] = "bars"
    root: str | None = Field(
        default=None, pattern=ROOT, description="Market root; symbols without it get it prefixed."
    )
    contract: str | None = Field(
        default=None,
        max_length=16,
        description="The file's contract (ESZ24) when it has no symbol column.",
    )
    timezone: str = Field(
        default="UTC", max_length=64, description="IANA zone of naive timestamps."
    )
    map: list[str] = Field(
        default_factory=list,
        max_length=64,
        description="SOURCE=CANONICAL column mappings (Last=close), repeat the field.",
    )
    time_format: str | None = Field(
        default=None, max_length=64, description="strptime format of non-ISO timestamps."
    )


class UploadForm(FileForm):
    """Form fields of a dataset upload, as the options of ``contango data import``."""

    dataset: str = Field(pattern=DATASET_NAME, description="Dataset name.", examples=["ES.1d"])


# -- continuous series -------------------------------------------------------------------------


class ContinuousRequest(BaseModel):
    """A continuous series to build, as ``contango data continuous`` takes it."""

    model_config = ConfigDict(extra="forbid")

    root: str = Field(pattern=ROOT, examples=["ES"])
    name: str = Field(default="", max_length=200, description="A label for the stored series.")
    dataset: str | None = Field(default=None, pattern=DATASET_NAME, description="Default ROOT.1d.")
    version: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{1,40}$", description="Version id or prefix."
    )
    roll: Literal["calendar", "volume", "oi"] = "calendar"
    days: int = Field(default=5, ge=0, le=60, description="Business days before the reference.")
    reference: Literal["auto", "last_trade", "first_notice"] = "auto"
    confirm: int = Field(default=1, ge=1, le=50, description="Bars a crossover must hold.")
    adjust: Literal["none", "difference", "ratio", "forward", "forward-ratio"] = "none"
    nearby: int = Field(default=1, ge=1, le=12, description="1 = front month.")
    start: date | None = Field(default=None, description="First trade date kept (inclusive).")
    end: date | None = Field(default=None, description="Last trade date kept (inclusive).")


class RollMarker(BaseModel):
    """One roll: the first bar of the new contract, and the gap measured before it."""

    ts: datetime
    from_contract: str = Field(examples=["ESH2024"])
    to_contract: str = Field(examples=["ESM2024"])
    reason: str = Field(examples=["calendar"])
    gap_ts: datetime = Field(description="Bar the gap was measured on.")
    from_close: float
    to_close: float
    gap: float = Field(description="to_close - from_close, in points.")
    adjustment: float = Field(description="This roll's offset (points) or factor.")
    cumulative: float = Field(description="Total applied to the adjusted side of this roll.")


class ContinuousSummary(BaseModel):
    """A stored continuous series and how it was built."""

    id: uuid.UUID
    request: ContinuousRequest
    dataset: str = Field(examples=["ES.1d"])
    version: str = Field(description="The dataset version it was built from.")
    bars: int
    rolls: int
    first: datetime | None
    last: datetime | None
    created_at: datetime


class ContinuousPage(_Page):
    """A page of stored continuous series."""

    items: list[ContinuousSummary]


class ContinuousDetail(ContinuousSummary):
    """A stored series: its roll schedule and a page of its bars (per-bar contract and
    unadjusted close)."""

    roll_schedule: list[RollMarker]
    series: ColumnsPage
