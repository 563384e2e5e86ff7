"""Validation reports: what is wrong with a market data file, where, and how bad.

Severity decides what happens on import. An **error** means the data would silently corrupt a
backtest (a high below the close, a duplicate bar, a time that never existed, an unknown
contract); a file with any error imports nothing. A **warning** marks data that can be right
but deserves a look (a negative price — CL settled at -37.63 on 20 April 2020 —, a price off
the tick grid after a tick-size change, a missing session, a spike); warnings are stored with
the dataset version so that whoever backtests on it later can see them.

Rows are numbered as *data rows* of the source file, starting at 1 for the first record after
the header. Each code lists at most :data:`MAX_LISTED` findings; the report keeps the total
count, so a 10 GB file full of errors still gives a small report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Severity = Literal["error", "warning"]
MAX_LISTED = 100

# Every code the importer can report, with its severity. Tests and docs read this table.
SEVERITY: dict[str, Severity] = {
    "unreadable": "error",  # a value the reader cannot parse as its column's type
    "no_rows": "error",  # a header and nothing else
    "ts_missing": "error",
    "ts_nonexistent": "error",  # local time skipped by a DST change: wrong time zone given
    "ts_ambiguous": "warning",  # local time repeated when DST ends: resolved by row order
    "ts_unsorted": "error",  # earlier than the previous row of the same contract
    "ts_duplicate": "error",  # same contract and time as the previous bar
    "contract_missing": "error",
    "contract_unknown": "error",
    "contract_other_root": "error",  # a dataset holds one market
    "price_missing": "error",
    "price_zero": "error",  # vendors write 0 for "no price"
    "price_negative": "warning",  # real for CL in April 2020, so not refused
    "price_off_tick": "warning",  # tick sizes change over a market's history
    "high_below_open_close": "error",
    "low_above_open_close": "error",
    "high_below_low": "error",
    "quantity_missing": "error",
    "quantity_negative": "error",
    "quote_crossed": "warning",  # bid above ask
    "price_spike": "warning",
    "missing_session": "warning",  # a business day of the exchange without a daily bar
}


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem at one place: ``row`` is the 1-based data row of the source file."""

    severity: Severity
    code: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    contract: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        if self.column:
            where += f", column {self.column}"
        return f"{self.severity} {self.code} ({where}): {self.message}"


@dataclass(frozen=True, kw_only=True)
class ValidationReport:
    """Findings of one file: listed findings (capped per code) and total counts per code."""

    source: str
    rows: int
    findings: tuple[Finding, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        """Total errors, including those not listed."""
        return sum(n for code, n in self.counts.items() if SEVERITY.get(code) == "error")

    @property
    def warning_count(self) -> int:
        """Total warnings, including those not listed."""
        return sum(n for code, n in self.counts.items() if SEVERITY.get(code) == "warning")

    @property
    def ok(self) -> bool:
        """True when nothing blocks the import (warnings allowed)."""
        return self.error_count == 0

    @property
    def errors(self) -> tuple[Finding, ...]:
        """Listed error findings."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """Listed warning findings."""
        return tuple(f for f in self.findings if f.severity == "warning")

    def summary(self) -> str:
        """One line: rows, errors and warnings by code."""
        parts = [f"{code} x{n}" for code, n in sorted(self.counts.items())]
        detail = f" ({', '.join(parts)})" if parts else ""
        return (
            f"{self.source}: {self.rows} rows, {self.error_count} errors, "
            f"{self.warning_count} warnings{detail}"
        )

    def without_errors(self) -> ValidationReport:
        """The warnings part, as stored with a dataset version."""
        return ValidationReport(
            source=self.source,
            rows=self.rows,
            findings=self.warnings,
            counts={c: n for c, n in self.counts.items() if SEVERITY.get(c) == "warning"},
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "source": self.source,
            "rows": self.rows,
            "counts": dict(sorted(self.counts.items())),
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValidationReport:
        """Inverse of :meth:`to_dict`."""
        return cls(
            source=data["source"],
            rows=int(data["rows"]),
            counts=dict(data.get("counts", {})),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", [])),
        )


class ValidationFailed(Exception):  # noqa: N818 - the name reads as the event it reports
    """Raised when a file has errors; nothing was imported. ``report`` says why."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        first = "; ".join(str(f) for f in report.errors[:3])
        super().__init__(f"{report.summary()}. {first}")


class ReportBuilder:
    """Collects findings from vectorized checks, listing at most ``MAX_LISTED`` per code."""

    def __init__(self, source: str, max_listed: int = MAX_LISTED) -> None:
        self.source = source
        self.max_listed = max_listed
        self.rows = 0
        self._findings: dict[str, list[Finding]] = {}
        self._counts: dict[str, int] = {}

    def add(
        self,
        code: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        contract: str | None = None,
        count: int = 1,
    ) -> None:
        """Record one finding (or ``count`` of which this is the first)."""
        self._counts[code] = self._counts.get(code, 0) + count
        listed = self._findings.setdefault(code, [])
        if len(listed) < self.max_listed:
            listed.append(
                Finding(
                    severity=SEVERITY[code],
                    code=code,
                    message=message,
                    row=row,
                    column=column,
                    value=None if value is None else str(value),
                    contract=contract,
                )
            )

    def add_rows(
        self,
        code: str,
        mask: npt.NDArray[np.bool_],
        rows: npt.NDArray[np.int64],
        *,
        column: str | None,
        values: Sequence[object] | npt.NDArray[Any] | None,
        message: str,
        contracts: Sequence[str] | npt.NDArray[Any] | None = None,
    ) -> None:
        """Record the rows where ``mask`` is true; ``message`` may use ``{value}``.

        Only the first rows up to the cap are turned into Python objects, so the cost of a
        file full of errors stays proportional to its size, not to its findings.
        """
        hits = np.flatnonzero(mask)
        if hits.size == 0:
            return
        room = max(self.max_listed - len(self._findings.get(code, [])), 0)
        for i in hits[:room].tolist():
            value = None if values is None else values[i]
            contract = None if contracts is None else str(contracts[i])
            self.add(
                code,
                message.format(value=value),
                row=int(rows[i]),
                column=column,
                value=value,
                contract=contract,
            )
        self._counts[code] = self._counts.get(code, 0) + int(hits.size) - min(room, hits.size)

    @property
    def error_count(self) -> int:
        """Errors so far."""
        return sum(n for c, n in self._counts.items() if SEVERITY[c] == "error")

    def report(self) -> ValidationReport:
        """The report so far, findings ordered by row within severity."""
        findings = [f for listed in self._findings.values() for f in listed]
        findings.sort(key=lambda f: (f.severity != "error", f.row or 0, f.code))
        return ValidationReport(
            source=self.source, rows=self.rows, findings=tuple(findings), counts=dict(self._counts)
        )
