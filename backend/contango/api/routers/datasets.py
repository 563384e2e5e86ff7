"""Dataset endpoints: list, lineage, manifests, bars, and uploads validated then imported.

An upload is parsed as it arrives (python-multipart's streaming parser): the file part goes
straight to its own folder under ``uploads_dir`` in the chunks the client sends, counted
against ``upload_max_bytes`` (over it: 413 and the partial file removed), so no upload is ever
held in memory or spooled anywhere else. The form fields are the options of
``contango data import``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from contango.api.deps import Context, Paging, Session
from contango.api.schemas.data import (
    DATASET_NAME,
    BarsPage,
    DatasetDetail,
    DatasetItem,
    DatasetPage,
    FileForm,
    ReportOut,
    UploadForm,
    UploadOut,
    VersionManifest,
    VersionSummary,
)
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.errors import InvalidInputError, TooLargeError
from contango.services import dataset_uploads as uploads
from contango.services import datasets as service
from contango.services.datasets import LocalParquetStore

router = APIRouter(prefix="/datasets", tags=["datasets"])

MAX_ROWS = 100_000
MAX_FIELDS = 64
MAX_FIELD_BYTES = 64 * 1024
FORM_OVERHEAD = MAX_FIELDS * MAX_FIELD_BYTES + 1024 * 1024  # fields, part headers, boundaries
F = TypeVar("F", bound=BaseModel)

Reader = Annotated[Principal, require(Permission.DATASETS_READ)]
Uploader = Annotated[Principal, require(Permission.DATASETS_UPLOAD)]
DatasetName = Annotated[str, Path(pattern=DATASET_NAME, description="Dataset name, e.g. ES.1d.")]
VersionId = Annotated[str, Path(pattern=r"^[0-9a-f]{1,40}$", description="Version id or prefix.")]


def market_store(context: Context) -> LocalParquetStore:
    """The market data store of the app's settings."""
    return service.market_store(context.settings)


Store = Annotated[LocalParquetStore, Depends(market_store)]


class _Multipart:
    """Callbacks of the streaming multipart parser: fields kept (bounded), the file passed on.

    File bytes are queued as the parser finds them and written by :func:`_receive` between
    chunks, because the parser's callbacks cannot await.
    """

    def __init__(self, boundary: bytes, open_file: Callable[[str], uploads.StagedUpload]) -> None:
        self.fields: dict[str, list[str]] = {}
        self.file: uploads.StagedUpload | None = None
        self.pending: list[bytes] = []
        self.ended = False
        self._open_file = open_file
        self._headers: dict[bytes, bytes] = {}
        self._header = (bytearray(), bytearray())
        self._name: str | None = None
        self._value = bytearray()
        self._in_file = False
        callbacks: Any = {
            "on_part_begin": self._begin,
            "on_header_field": lambda data, a, b: self._header[0].extend(data[a:b]),
            "on_header_value": lambda data, a, b: self._header[1].extend(data[a:b]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }
        self.parser = MultipartParser(boundary, callbacks)

    def _begin(self) -> None:
        self._headers, self._name, self._value, self._in_file = {}, None, bytearray(), False

    def _header_end(self) -> None:
        field, value = self._header
        self._headers[bytes(field).lower()] = bytes(value)
        field.clear()
        value.clear()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        name, filename = params.get(b"name"), params.get(b"filename")
        if name is None:
            raise InvalidInputError("a multipart part has no name in its Content-Disposition")
        self._name = name.decode("utf-8", "replace")
        if filename is None:
            if sum(len(v) for v in self.fields.values()) >= MAX_FIELDS:
                raise InvalidInputError(f"more than {MAX_FIELDS} form fields")
            return
        if self._name != "file" or self.file is not None:
            raise InvalidInputError("send exactly one file, in the form field 'file'")
        self._in_file = True
        self.file = self._open_file(filename.decode("utf-8", "replace"))

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.pending.append(bytes(data[start:end]))
            return
        self._value.extend(data[start:end])
        if len(self._value) > MAX_FIELD_BYTES:
            raise InvalidInputError(f"form field {self._name}: longer than {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._in_file or self._name is None:
            return
        try:
            text = bytes(self._value).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInputError(f"form field {self._name}: not UTF-8 text") from None
        self.fields.setdefault(self._name, []).append(text)

    def _end(self) -> None:
        self.ended = True


async def _receive(
    request: Request, context: Context
) -> tuple[dict[str, list[str]], uploads.StagedUpload]:
    """Read a multipart upload: its form fields and the file, staged in ``uploads_dir``."""
    settings = context.settings
    media, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if media != b"multipart/form-data" or not boundary:
        raise HTTPException(415, "send multipart/form-data with the file in the field 'file'")
    most = settings.upload_max_bytes + FORM_OVERHEAD
    if int(request.headers.get("content-length") or 0) > most:
        raise TooLargeError(f"file: the upload is larger than {settings.upload_max_bytes:,} bytes")
    reader = _Multipart(
        boundary,
        lambda name: uploads.StagedUpload(settings.uploads_dir, name, settings.upload_max_bytes),
    )
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if received > most:
                raise TooLargeError(f"the request is larger than {most:,} bytes")
            try:
                reader.parser.write(chunk)
            except MultipartParseError as exc:
                raise InvalidInputError(f"malformed multipart body: {exc}") from None
            if reader.file is not None:
                for piece in reader.pending:
                    await reader.file.write(piece)
            reader.pending.clear()
        if not reader.ended:
            raise InvalidInputError("the multipart body ended before its closing boundary")
        if reader.file is None:
            raise InvalidInputError("no file: send it in the form field 'file'")
        reader.file.close()
    except BaseException:
        if reader.file is not None:
            reader.file.remove()
        raise
    return reader.fields, reader.file


def _form(model: type[F], fields: dict[str, list[str]]) -> F:
    """The form fields as ``model``; a 422 naming each wrong field otherwise."""
    data: dict[str, Any] = {k: v for k, v in fields.items() if k == "map"}
    data |= {k: v[-1] for k, v in fields.items() if k != "map" and v[-1] != ""}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


def _options(form: FileForm) -> uploads.FileOptions:
    return uploads.FileOptions(
        kind=form.kind,
        root=form.root,
        contract=form.contract,
        timezone=form.timezone,
        mapping=tuple(form.map),
        time_format=form.time_format,
    )


def _multipart_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of an upload: the form model plus the binary ``file``."""
    schema = model.model_json_schema()
    schema["properties"]["file"] = {
        "type": "string",
        "format": "binary",
        "description": "CSV (.csv, or gzipped .csv.gz) or Parquet (.parquet); the suffix says.",
    }
    schema["required"] = [*schema.get("required", []), "file"]
    content = {"multipart/form-data": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "The file is larger than the upload limit; nothing was kept."},
    415: {"description": "The body is not multipart/form-data."},
    422: {"description": "Bad form fields or file; a file with errors carries its `report`."},
}


def _item(view: service.DatasetView) -> dict[str, Any]:
    return {
        "name": view.name,
        "kind": view.latest.kind,
        "shared": view.shared,
        "latest": VersionSummary.from_version(view.latest),
        "version_count": len(view.versions),
    }


@router.get("", summary="Datasets the caller may read")
async def list_datasets(
    *,
    session: Session,
    caller: Reader,
    store: Store,
    paging: Paging,
    kind: Annotated[str | None, Query(pattern="^(bars|ticks)$")] = None,
    root: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9]{1,8}$", examples=["ES"])] = None,
    search: Annotated[str | None, Query(max_length=100, description="In the name.")] = None,
    shared: Annotated[bool | None, Query(description="Only shared / only the team's.")] = None,
) -> DatasetPage:
    """The team's datasets and the shared ones, by name, with their latest version."""
    filters = service.DatasetFilter(kind=kind, root=root, search=search, shared=shared)
    views = await service.list_datasets(session, caller, store, filters)
    page = views[paging.offset : paging.offset + paging.limit]
    return DatasetPage(
        items=[DatasetItem(**_item(v)) for v in page],
        total=len(views),
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/{name}", summary="One dataset and its lineage")
async def get_dataset(
    name: DatasetName, session: Session, caller: Reader, store: Store
) -> DatasetDetail:
    """The dataset with every version, newest first (404 if missing or another team's)."""
    view = await service.get_dataset(session, caller, store, name)
    return DatasetDetail(
        **_item(view), versions=[VersionSummary.from_version(v) for v in view.versions]
    )


@router.get("/{name}/versions/{version}", summary="A version's manifest (lineage)")
async def get_version(
    name: DatasetName, version: VersionId, session: Session, caller: Reader, store: Store
) -> VersionManifest:
    """Parent, content hash, source file and its hash, rows, range, report, author, time."""
    view = await service.get_dataset(session, caller, store, name)
    return VersionManifest.from_version(service.pick_version(view, version))


@router.get("/{name}/bars", summary="Rows of a dataset version, as columns")
async def get_bars(
    *,
    name: DatasetName,
    session: Session,
    caller: Reader,
    store: Store,
    version: Annotated[str | None, Query(pattern=r"^[0-9a-f]{1,40}$")] = None,
    contract: Annotated[
        list[str] | None, Query(max_length=50, description="ESZ24 or ESZ2024; repeatable.")
    ] = None,
    start: Annotated[datetime | None, Query(description="Inclusive; naive = UTC.")] = None,
    end: Annotated[datetime | None, Query(description="Exclusive; naive = UTC.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ROWS, description="Rows at most.")] = 10_000,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> BarsPage:
    """Bars (or ticks) of the latest or a pinned version, sorted by (contract, ts)."""
    query = service.RowsQuery(
        version=version,
        contracts=tuple(contract or ()),
        start=start,
        end=end,
        limit=limit,
        offset=offset,
    )
    rows = await service.read_rows(session, caller, store, name, query)
    return BarsPage(
        dataset=rows.dataset,
        version=rows.version,
        columns=service.json_columns(rows.table),
        total=rows.total,
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    status_code=201,
    summary="Upload a file: validate it and import it as a new version",
    openapi_extra=_multipart_body(UploadForm),
    responses={
        200: {"description": "Every row was already stored: no new version."},
        **_UPLOAD_ERRORS,
    },
)
async def upload(
    *,
    request: Request,
    response: Response,
    context: Context,
    session: Session,
    caller: Uploader,
    store: Store,
) -> UploadOut:
    """201 with the new version and the report; 422 with the report and nothing imported."""
    fields, staged = await _receive(request, context)
    try:
        form = _form(UploadForm, fields)
        outcome = await uploads.upload(
            session,
            context.database,
            caller,
            store,
            staged,
            dataset=form.dataset,
            options=_options(form),
        )
    finally:
        staged.remove()
    if not outcome.created:
        response.status_code = 200
    return UploadOut(
        dataset=form.dataset,
        created=outcome.created,
        dataset_created=outcome.dataset_created,
        version=VersionManifest.from_version(outcome.version),
        report=ReportOut.from_report(outcome.report),
    )


@router.post(
    "/validate",
    summary="Validate a file without importing it",
    openapi_extra=_multipart_body(FileForm),
    responses=_UPLOAD_ERRORS,
    dependencies=[require(Permission.DATASETS_UPLOAD)],
)
async def validate(request: Request, context: Context) -> ReportOut:
    """The file's report: each finding with its row, column and value; nothing is stored."""
    fields, staged = await _receive(request, context)
    try:
        report = await uploads.validate_upload(staged, _options(_form(FileForm, fields)))
    finally:
        staged.remove()
    return ReportOut.from_report(report)
