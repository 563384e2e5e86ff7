"""Files uploaded, validated and imported as a new version of a dataset.

Validation and import are the data layer's own (:func:`contango.data.ingest.import_file`), run
in a worker thread because they read and write files for as long as the file takes.

The first upload of a dataset makes it the uploader's (and their team's) by a row of the
``datasets`` table, and a store dataset without such a row is shared with everyone. So the row
is committed on its own, before the store publishes the version: whatever happens to the
request afterwards, the new data never shows up as shared. An upload that imports nothing
takes its new row back. A refused file is audited as a failure in a transaction of its own
(the request's rolls back).
"""

from __future__ import annotations

import gzip
import re
import shutil
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import anyio.to_thread
import pyarrow as pa
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contango import audit
from contango.auth.rbac import Principal, can_reach
from contango.data.ingest import import_file, validate_file
from contango.data.schema import ColumnMapping, Kind, MappingError
from contango.data.store import DatasetVersion, LocalParquetStore, StoreError
from contango.data.validation import ValidationFailed, ValidationReport
from contango.db.models import Dataset, User
from contango.db.session import Database
from contango.errors import ConflictError, InvalidInputError, PermissionDeniedError, TooLargeError
from contango.services.datasets import dataset_missing, owner_rows

# What a file that is not the format its name says raises while being read.
_UNREADABLE = (pa.ArrowException, UnicodeDecodeError, EOFError, zlib.error, gzip.BadGzipFile)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class StagedUpload:
    """A file being received into the uploads folder, refused once it passes ``limit`` bytes.

    Each upload gets its own folder so that the file keeps the name it was sent with (the
    store records it as the version's source) and two uploads never collide.
    """

    def __init__(self, uploads_dir: Path, filename: str, limit: int) -> None:
        base = _SAFE_NAME.sub("_", filename.replace("\\", "/").rsplit("/", 1)[-1])[-120:]
        self.folder = uploads_dir / uuid.uuid4().hex
        self.folder.mkdir(parents=True)
        self.path = self.folder / (base.lstrip(".") or "upload.csv")
        self.limit = limit
        self.size = 0
        self._handle = self.path.open("wb")

    async def write(self, data: bytes) -> None:
        """Append ``data``; TooLargeError (and the partial file removed) past the limit."""
        self.size += len(data)
        if self.size > self.limit:
            self.remove()
            raise TooLargeError(
                f"file: the upload is larger than the limit of {self.limit:,} bytes",
                extra={"limit": self.limit},
            )
        await anyio.to_thread.run_sync(self._handle.write, data)

    def close(self) -> None:
        """Finish writing; the file is complete on disk."""
        self._handle.close()

    def remove(self) -> None:
        """Delete the file and its folder (safe to call more than once)."""
        self._handle.close()
        shutil.rmtree(self.folder, ignore_errors=True)


@dataclass(frozen=True, kw_only=True)
class FileOptions:
    """How to read an uploaded file: the options of ``contango data validate`` / ``import``."""

    kind: Kind = "bars"
    root: str | None = None
    contract: str | None = None
    timezone: str = "UTC"
    mapping: tuple[str, ...] = ()
    time_format: str | None = None

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments of the data layer's validate_file / import_file."""
        return {
            "mapping": ColumnMapping.parse(self.mapping),
            "timezone": self.timezone,
            "contract": self.contract,
            "root": self.root,
            "kind": self.kind,
            "time_format": self.time_format,
        }


@dataclass(frozen=True, kw_only=True)
class UploadOutcome:
    """The version an upload produced (or the latest, unchanged) and the file's report."""

    version: DatasetVersion
    report: ValidationReport
    created: bool
    dataset_created: bool


def report_json(report: ValidationReport) -> dict[str, Any]:
    """A report as JSON, with its verdict and totals."""
    return {
        **report.to_dict(),
        "ok": report.ok,
        "error_count": report.error_count,
        "warning_count": report.warning_count,
    }


@contextmanager
def _file_problems(staged: StagedUpload) -> Iterator[None]:
    """Turn the data layer's complaints about a file into one InvalidInputError each."""
    if staged.size == 0:
        raise InvalidInputError("file: the upload is empty", extra={"field": "file"})
    try:
        yield
    except ValidationFailed as failed:
        raise InvalidInputError(
            f"{failed}; nothing was imported", extra={"report": report_json(failed.report)}
        ) from None
    except (MappingError, StoreError) as exc:
        raise InvalidInputError(str(exc)) from None
    except _UNREADABLE as exc:
        raise InvalidInputError(
            f"file {staged.path.name}: cannot be read as CSV (.csv, .csv.gz) or Parquet "
            f"(.parquet), as its name says: {exc}",
            extra={"field": "file"},
        ) from None


async def validate_upload(staged: StagedUpload, options: FileOptions) -> ValidationReport:
    """The report of an uploaded file; nothing is stored."""
    with _file_problems(staged):
        check = partial(validate_file, staged.path, **options.arguments())
        return await anyio.to_thread.run_sync(check)


async def _target(
    session: AsyncSession, caller: Principal, store: LocalParquetStore, name: str
) -> bool:
    """Check the caller may add a version to ``name``; True when it is a new dataset."""
    row = (await owner_rows(session, [name])).get(name)
    if row is not None:
        if not can_reach(caller, row.owner_id, row.team_id, write=True):
            raise dataset_missing(name)
        return False
    try:
        await anyio.to_thread.run_sync(store.versions, name)
    except StoreError:
        return True  # a new dataset: it becomes the caller's and their team's
    if not can_reach(caller, None, None, write=True):
        raise PermissionDeniedError(
            f"dataset {name} is shared: only an admin may add versions; upload under another name"
        )
    return False


async def _claim(database: Database, caller: Principal, name: str, kind: Kind) -> None:
    """Commit the new dataset's ownership row before anything is published under its name."""
    try:
        async with database.transaction() as tx:
            tx.add(Dataset(name=name, kind=kind, owner_id=caller.user_id, team_id=caller.team_id))
    except IntegrityError:
        raise ConflictError(f"dataset {name} was created by another upload meanwhile") from None


async def _release(database: Database, store: LocalParquetStore, name: str) -> None:
    """Take back a claimed row when nothing was published under its name after all."""
    try:
        await anyio.to_thread.run_sync(store.versions, name)
    except StoreError:
        async with database.transaction() as tx:
            await tx.execute(delete(Dataset).where(Dataset.name == name))


async def _audit_refusal(
    database: Database, caller: Principal, name: str, error: InvalidInputError
) -> None:
    """A refused file is a failed attempt to change a dataset: logged like the others, in a
    transaction of its own because the request's rolls back."""
    report = error.extra.get("report")
    details: dict[str, Any] = {"reason": str(error)[:500]}
    if isinstance(report, dict):
        details["errors"] = report.get("error_count")
    async with database.transaction() as tx:
        await audit.record_event(
            tx,
            action="dataset.upload",
            actor_id=caller.user_id,
            actor=str(caller.user_id),
            target=f"dataset:{name}",
            outcome="failure",
            details=details,
        )


async def upload(
    session: AsyncSession,
    database: Database,
    caller: Principal,
    store: LocalParquetStore,
    staged: StagedUpload,
    *,
    dataset: str,
    options: FileOptions,
) -> UploadOutcome:
    """Validate an uploaded file and import it as a new version of ``dataset``.

    A file with any error imports nothing, is audited as a refused upload and raises
    InvalidInputError carrying the report. A new dataset's row is committed first (module
    doc); the success entry is written in ``session``'s transaction.
    """
    dataset_created = await _target(session, caller, store, dataset)
    user = await session.get(User, caller.user_id)
    author = user.email if user is not None else str(caller.user_id)
    if dataset_created:
        await _claim(database, caller, dataset, options.kind)
    try:
        with _file_problems(staged):
            arguments = options.arguments()
            run = partial(
                import_file, staged.path, dataset=dataset, store=store, author=author, **arguments
            )
            result = await anyio.to_thread.run_sync(run)
    except BaseException as error:
        if dataset_created:
            await _release(database, store, dataset)
        if isinstance(error, InvalidInputError):
            await _audit_refusal(database, caller, dataset, error)
        raise
    if not result.created:
        if dataset_created:
            await _release(database, store, dataset)
    else:
        version = result.version
        await audit.record_event(
            session,
            action="dataset.upload",
            actor_id=caller.user_id,
            actor=str(caller.user_id),
            target=f"dataset:{dataset}",
            outcome="success",
            details={
                "version": version.id,
                "parent": version.parent,
                "dataset_created": dataset_created,
                "rows_added": version.rows_added,
                "rows_replaced": version.rows_replaced,
                "source": None if version.source is None else version.source.__dict__,
                "warnings": result.report.warning_count,
            },
        )
    return UploadOutcome(
        version=result.version,
        report=result.report,
        created=result.created,
        dataset_created=dataset_created,
    )
