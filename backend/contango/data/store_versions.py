"""What a dataset version records: its rows' identity, where they came from, who and when.

Kept apart from the store so that other backends (a database, object storage) describe their
versions with the same frozen types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from contango.data.schema import Kind
from contango.data.store_files import FragmentInfo
from contango.data.validation import ValidationReport


@dataclass(frozen=True, kw_only=True)
class SourceInfo:
    """Where the rows of a version came from: file name, its hash (``"sha256:<hex>"``), size."""

    name: str
    hash: str | None = None
    size: int | None = None


@dataclass(frozen=True, kw_only=True)
class DatasetVersion:
    """One immutable state of a dataset and how it came about.

    ``id`` is the short hash of (parent id, content hash): the same imports in the same order
    give the same ids on any machine. ``content_hash`` identifies the rows themselves.
    ``report`` holds the warnings of the import that created this version.
    """

    id: str
    dataset: str
    kind: Kind
    parent: str | None
    content_hash: str
    source: SourceInfo | None
    rows: int
    rows_added: int
    rows_replaced: int
    contracts: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    report: ValidationReport | None
    author: str
    created_at: datetime
    fragments: tuple[FragmentInfo, ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready manifest form."""
        return {
            "id": self.id,
            "dataset": self.dataset,
            "kind": self.kind,
            "parent": self.parent,
            "content_hash": self.content_hash,
            "source": None if self.source is None else self.source.__dict__,
            "rows": self.rows,
            "rows_added": self.rows_added,
            "rows_replaced": self.rows_replaced,
            "contracts": list(self.contracts),
            "start": None if self.start is None else self.start.isoformat(),
            "end": None if self.end is None else self.end.isoformat(),
            "report": None if self.report is None else self.report.to_dict(),
            "author": self.author,
            "created_at": self.created_at.isoformat(),
            "fragments": [f.to_dict() for f in self.fragments],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DatasetVersion:
        """Inverse of :meth:`to_dict`."""

        def when(text: str | None) -> datetime | None:
            return None if text is None else datetime.fromisoformat(text)

        created = when(data["created_at"])
        assert created is not None
        return cls(
            id=data["id"],
            dataset=data["dataset"],
            kind=data["kind"],
            parent=data["parent"],
            content_hash=data["content_hash"],
            source=None if data["source"] is None else SourceInfo(**data["source"]),
            rows=data["rows"],
            rows_added=data["rows_added"],
            rows_replaced=data["rows_replaced"],
            contracts=tuple(data["contracts"]),
            start=when(data["start"]),
            end=when(data["end"]),
            report=None if data["report"] is None else ValidationReport.from_dict(data["report"]),
            author=data["author"],
            created_at=created,
            fragments=tuple(FragmentInfo.from_dict(f) for f in data["fragments"]),
        )


@dataclass(frozen=True, kw_only=True)
class DatasetSummary:
    """A dataset as ``contango data list`` shows it: its latest version and what it holds."""

    name: str
    kind: Kind
    latest: DatasetVersion
    version_count: int
