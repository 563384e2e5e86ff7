"""Audit endpoints: read, verify and export the hash-chained audit log.

The audit log is firm-wide by design: compliance officers (and admins) see every entry, not
only their team's. Each endpoint needs its own permission (audit.read, audit.verify,
audit.export); an export is itself audited and checkpointed before it starts.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field

from contango import audit
from contango.api.deps import Context, Paging, Session
from contango.api.security import require
from contango.auth.rbac import Permission, Principal
from contango.errors import InvalidInputError

router = APIRouter(prefix="/audit", tags=["audit"])

HASH_EXAMPLE = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


class AuditEntryOut(BaseModel):
    """One entry: what happened, who did it, and its place in the chain."""

    seq: int = Field(description="Position in the chain, from 1, without gaps.", examples=[42])
    time: str = Field(
        description="When it was recorded (UTC).", examples=["2026-11-21T09:30:00.000000Z"]
    )
    actor_id: uuid.UUID | None = Field(description="The user, if any.")
    actor: str = Field(
        description="Who, in words (e-mail or id).", examples=["ana@desk-a.example.com"]
    )
    action: str = Field(examples=["dataset.upload"])
    target: str | None = Field(examples=["dataset:ES.1m"])
    outcome: str = Field(description="success, failure or denied.", examples=["success"])
    details: dict[str, Any] = Field(description="Event-specific facts (never secrets).")
    request_id: str | None = Field(description="The API request that caused it.")
    client_ip: str | None
    prev_hash: str = Field(description="Hash of the entry before (64 zeros for the first).")
    hash: str = Field(
        description="SHA-256 of the RFC 8785 canonical JSON of every other field.",
        examples=[HASH_EXAMPLE],
    )


class AuditEntryPage(BaseModel):
    """A page of entries, newest first."""

    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int


class ProblemOut(BaseModel):
    """One failed check."""

    check: audit.Check = Field(description="Which check failed.")
    seq: int | None = Field(description="The entry it is about, if one.")
    message: str


class VerificationOut(BaseModel):
    """What a verification of the whole log found; ``ok`` only if every check passed."""

    ok: bool
    entries: int
    first_seq: int | None
    last_seq: int | None
    head_seq: int | None
    checkpoints: int = Field(description="Valid signed checkpoints compared with the log.")
    last_checkpoint_seq: int | None
    problems: list[ProblemOut]
    problems_not_listed: int = Field(description="Further problems beyond the listed ones.")
    notes: list[str] = Field(description="Limits of what could be checked (not failures).")


Since = Annotated[
    AwareDatetime | None, Query(description="From this time (inclusive), with a UTC offset.")
]
Until = Annotated[
    AwareDatetime | None, Query(description="Before this time (exclusive), with a UTC offset.")
]
Actor = Annotated[str | None, Query(max_length=320, description="Exactly this actor.")]
Action = Annotated[
    str | None, Query(max_length=100, description="Exactly this action.", examples=["auth.login"])
]
Seq = Annotated[int | None, Query(ge=1, le=2**62, description="Entry number (inclusive).")]


def _filter(**values: Any) -> audit.EntryFilter:
    wanted = audit.EntryFilter(**values)
    if wanted.since and wanted.until and wanted.since >= wanted.until:
        raise InvalidInputError("since must be before until")
    if wanted.first_seq and wanted.last_seq and wanted.first_seq > wanted.last_seq:
        raise InvalidInputError("first_seq must not be after last_seq")
    return wanted


@router.get("/entries", summary="List audit entries (firm-wide), newest first")
async def list_entries(
    *,
    session: Session,
    paging: Paging,
    _caller: Annotated[Principal, require(Permission.AUDIT_READ)],
    actor: Actor = None,
    action: Action = None,
    since: Since = None,
    until: Until = None,
) -> AuditEntryPage:
    """Entries filtered by actor, action and time range, paged."""
    wanted = _filter(actor=actor, action=action, since=since, until=until)
    entries, total = await audit.list_entries(
        session, wanted, limit=paging.limit, offset=paging.offset
    )
    return AuditEntryPage(
        items=[AuditEntryOut.model_validate(entry.to_json()) for entry in entries],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )


@router.get("/verify", summary="Verify the whole audit log and its signed checkpoints")
async def verify(
    context: Context, _caller: Annotated[Principal, require(Permission.AUDIT_VERIFY)]
) -> VerificationOut:
    """Recompute every hash, follow the chain, and compare it with the signed checkpoints."""
    report = await audit.verify_audit_log(context.database, context.settings)
    return VerificationOut(
        ok=report.ok,
        entries=report.entries,
        first_seq=report.first_seq,
        last_seq=report.last_seq,
        head_seq=report.head_seq,
        checkpoints=report.checkpoints,
        last_checkpoint_seq=report.last_checkpoint_seq,
        problems=[ProblemOut(check=p.check, seq=p.seq, message=p.message) for p in report.problems],
        problems_not_listed=report.problems_not_listed,
        notes=report.notes,
    )


@router.get(
    "/export",
    summary="Export audit entries as JSON lines, ending with a checkpoint signed now",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
async def export(
    *,
    context: Context,
    caller: Annotated[Principal, require(Permission.AUDIT_EXPORT)],
    actor: Actor = None,
    action: Action = None,
    since: Since = None,
    until: Until = None,
    first_seq: Seq = None,
    last_seq: Seq = None,
) -> StreamingResponse:
    """One entry per line (canonical JSON with its hash); the last line holds the checkpoint."""
    wanted = _filter(
        actor=actor,
        action=action,
        since=since,
        until=until,
        first_seq=first_seq,
        last_seq=last_seq,
    )
    started = await audit.start_export(
        context.database,
        context.settings,
        wanted,
        actor_id=caller.user_id,
        actor=str(caller.user_id),
    )
    seq = started.checkpoint.seq
    return StreamingResponse(
        started.lines,
        media_type="application/x-ndjson",
        headers={
            "Content-Disposition": f'attachment; filename="audit-to-{seq}.jsonl"',
            "X-Audit-Checkpoint-Seq": str(seq),
        },
    )
