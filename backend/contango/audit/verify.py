"""Verify the audit log: recompute every hash, follow the chain, and hold it to the checkpoints.

Each kind of tampering breaks a different check, and the report names the check and the entry:

- an edited entry no longer matches its own hash (``hash_mismatch`` at that seq);
- a deleted entry leaves a hole in the numbering and a ``prev_hash`` naming a hash that is not
  the previous entry's (``sequence_gap`` and ``chain_break`` at the entry after it);
- reordered entries hash differently at their new position (``hash_mismatch`` at each);
- a cut-off tail leaves checkpoints pointing past the end (``checkpoint_beyond_end``) and a head
  row that disagrees with the last entry (``head_mismatch``);
- a full rewrite with recomputed hashes disagrees with the signed checkpoints
  (``checkpoint_mismatch``), and forged or edited checkpoints fail their signature or the
  line-to-line links of the checkpoint file (``checkpoint_invalid``);
- an event kept out of the chain (its intake row held locked, or written so that it cannot be
  hashed) is still in the intake after everything else was sealed (``unsealed``, once older than
  a threshold; a younger one may be a commit that landed during the verification).

An intake row cannot simply vanish: the intake's delete guard lets a row go only once the log
holds an entry with its id and content, and an entry forced in out of place breaks the chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from contango.audit.canonical import GENESIS_HASH, entry_hash
from contango.audit.chain import Entry
from contango.audit.checkpoints import (
    Checkpoint,
    CheckpointLine,
    checkpoint_path,
    key_id,
    read_checkpoints,
    signing_key,
)
from contango.audit.seal import seal_pending
from contango.db.base import utcnow
from contango.db.models.audit import AuditEntry, AuditHead, AuditIntake
from contango.db.session import Database
from contango.settings import Settings

BATCH = 2000
MAX_PROBLEMS = 1000  # beyond this a report only counts them: one break often cascades
UNSEALED_AFTER = timedelta(minutes=1)  # the sealer normally takes milliseconds


class Check(StrEnum):
    """Which check failed."""

    HASH_MISMATCH = "hash_mismatch"
    CHAIN_BREAK = "chain_break"
    SEQUENCE_GAP = "sequence_gap"
    HEAD_MISMATCH = "head_mismatch"
    CHECKPOINT_INVALID = "checkpoint_invalid"
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"
    CHECKPOINT_BEYOND_END = "checkpoint_beyond_end"
    UNSEALED = "unsealed"


@dataclass(frozen=True, slots=True)
class Problem:
    """One failed check: which, at which entry (None: not about one entry), and in words."""

    check: Check
    seq: int | None
    message: str


@dataclass(slots=True)
class VerificationReport:
    """The outcome of a verification; ``ok`` only if no check failed."""

    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    head_seq: int | None = None
    checkpoints: int = 0
    last_checkpoint_seq: int | None = None
    problems: list[Problem] = field(default_factory=list)
    problems_not_listed: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return not self.problems

    def add(self, check: Check, seq: int | None, message: str) -> None:
        """Record a failed check (listing at most :data:`MAX_PROBLEMS`)."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(check, seq, message))
        else:
            self.problems_not_listed += 1


def _check_entry(report: VerificationReport, entry: Entry, previous: Entry | None) -> None:
    recomputed = entry_hash(entry.fields, seq=entry.seq, prev_hash=entry.prev_hash)
    if recomputed != entry.hash:
        report.add(
            Check.HASH_MISMATCH,
            entry.seq,
            f"entry {entry.seq} does not match its hash: its content was changed "
            f"(stored {entry.hash[:12]}..., computed {recomputed[:12]}...)",
        )
    expected_seq = 1 if previous is None else previous.seq + 1
    if entry.seq != expected_seq:
        report.add(
            Check.SEQUENCE_GAP,
            entry.seq,
            f"entries {expected_seq}..{entry.seq - 1} are missing before entry {entry.seq}",
        )
    expected_prev = GENESIS_HASH if previous is None else previous.hash
    if entry.prev_hash != expected_prev:
        before = "the start of the log" if previous is None else f"entry {previous.seq}"
        report.add(
            Check.CHAIN_BREAK,
            entry.seq,
            f"entry {entry.seq} does not follow {before}: its prev_hash "
            f"{entry.prev_hash[:12]}... is not {expected_prev[:12]}...",
        )


async def _walk(
    session: AsyncSession, report: VerificationReport, wanted: set[int]
) -> tuple[dict[int, str], str]:
    """Check every entry in order; return the hashes at the ``wanted`` seqs and the last hash."""
    previous: Entry | None = None
    found: dict[int, str] = {}
    after = None
    while True:
        query = select(AuditEntry).order_by(AuditEntry.seq).limit(BATCH)
        if after is not None:
            query = query.where(AuditEntry.seq > after)
        rows = (await session.execute(query)).scalars().all()
        if not rows:
            return found, GENESIS_HASH if previous is None else previous.hash
        for row in rows:
            entry = Entry.from_row(row)
            _check_entry(report, entry, previous)
            if entry.seq in wanted:
                found[entry.seq] = entry.hash
            report.entries += 1
            report.first_seq = entry.seq if report.first_seq is None else report.first_seq
            report.last_seq = entry.seq
            previous = entry
        after = rows[-1].seq
        session.expunge_all()  # keep memory flat on long logs


def _check_checkpoint_file(
    report: VerificationReport, lines: list[CheckpointLine], public_key: Ed25519PublicKey
) -> list[Checkpoint]:
    """Signatures and line links; returns the checkpoints that can be trusted."""
    trusted: list[Checkpoint] = []
    expected_prev = GENESIS_HASH
    highest = 0
    ours = key_id(public_key)
    for line in lines:
        where = f"checkpoint file line {line.number}"
        checkpoint = line.checkpoint
        if checkpoint is None:
            report.add(Check.CHECKPOINT_INVALID, None, f"{where} is unreadable: {line.error}")
        elif checkpoint.key != ours:
            report.add(
                Check.CHECKPOINT_INVALID,
                checkpoint.seq,
                f"{where} was signed by key {checkpoint.key}, not the audit key {ours}",
            )
        elif not checkpoint.signed_by(public_key):
            report.add(
                Check.CHECKPOINT_INVALID,
                checkpoint.seq,
                f"{where} has an invalid signature: it was forged or edited",
            )
        else:
            if checkpoint.prev != expected_prev:
                report.add(
                    Check.CHECKPOINT_INVALID,
                    checkpoint.seq,
                    f"{where} does not follow the line before it: lines were removed or changed",
                )
            if checkpoint.seq < highest:
                report.add(
                    Check.CHECKPOINT_INVALID,
                    checkpoint.seq,
                    f"{where} names entry {checkpoint.seq}, behind an earlier checkpoint at "
                    f"entry {highest}: the log went backwards between them",
                )
            highest = max(highest, checkpoint.seq)
            trusted.append(checkpoint)
        expected_prev = line.line_hash
    return trusted


def _compare_checkpoints(
    report: VerificationReport, checkpoints: Iterable[Checkpoint], stored: dict[int, str]
) -> None:
    last = report.last_seq or 0
    for checkpoint in checkpoints:
        seq = checkpoint.seq
        if seq == 0:
            continue
        if seq > last:
            report.add(
                Check.CHECKPOINT_BEYOND_END,
                seq,
                f"checkpoint of {checkpoint.time} names entry {seq}, but the log ends at "
                f"{last}: entries {last + 1}..{seq} at least were deleted from the tail",
            )
        elif seq not in stored:
            report.add(
                Check.CHECKPOINT_MISMATCH,
                seq,
                f"checkpoint of {checkpoint.time} names entry {seq}, which is missing",
            )
        elif stored[seq] != checkpoint.hash:
            report.add(
                Check.CHECKPOINT_MISMATCH,
                seq,
                f"entry {seq} has hash {stored[seq][:12]}... but the checkpoint of "
                f"{checkpoint.time} signed {checkpoint.hash[:12]}...: the log was rewritten",
            )


async def _check_intake(
    session: AsyncSession, report: VerificationReport, unsealed_after: timedelta
) -> None:
    """Report intake rows left unsealed for longer than ``unsealed_after``."""
    cutoff = utcnow() - unsealed_after
    stale = (
        await session.execute(
            select(AuditIntake.id, AuditIntake.occurred_at, AuditIntake.action)
            .where(AuditIntake.occurred_at < cutoff)
            .order_by(AuditIntake.id)
            .limit(MAX_PROBLEMS)
        )
    ).all()
    for row in stale:
        report.add(
            Check.UNSEALED,
            None,
            f"intake row {row.id} ({row.action!r}, recorded {row.occurred_at.isoformat()}) is "
            f"not sealed into the chain after {unsealed_after}: it is held locked or cannot be "
            "hashed",
        )
    younger = (
        await session.execute(select(func.count()).select_from(AuditIntake))
    ).scalar_one() - len(stale)
    if younger > 0:
        report.notes.append(
            f"{younger} event(s) recorded during the verification are not sealed yet"
        )


async def verify_log(
    session: AsyncSession,
    lines: list[CheckpointLine],
    public_key: Ed25519PublicKey,
    *,
    unsealed_after: timedelta = UNSEALED_AFTER,
) -> VerificationReport:
    """Run every check over the whole log, the intake and the checkpoint file lines."""
    report = VerificationReport()
    checkpoints = _check_checkpoint_file(report, lines, public_key)
    report.checkpoints = len(checkpoints)
    wanted = {checkpoint.seq for checkpoint in checkpoints}
    stored, last_hash = await _walk(session, report, wanted)
    _compare_checkpoints(report, checkpoints, stored)
    last = report.last_seq or 0
    head = await session.get(AuditHead, 1)
    if head is None:
        report.add(Check.HEAD_MISMATCH, None, "the audit_head row is missing")
    else:
        report.head_seq = head.seq
        if (head.seq, head.hash) != (last, last_hash):
            report.add(
                Check.HEAD_MISMATCH,
                head.seq,
                f"the head names entry {head.seq} ({head.hash[:12]}...) but the log ends at "
                f"entry {last} ({last_hash[:12]}...)",
            )
    await _check_intake(session, report, unsealed_after)
    if checkpoints:
        report.last_checkpoint_seq = max(checkpoint.seq for checkpoint in checkpoints)
    if report.entries and not lines:
        report.notes.append("no checkpoint file: a cut-off tail or a full rewrite would not show")
    elif report.entries and (report.last_checkpoint_seq or 0) < last:
        report.notes.append(
            f"entries after {report.last_checkpoint_seq or 0} are not covered by a checkpoint yet"
        )
    return report


async def verify_audit_log(
    database: Database, settings: Settings, *, unsealed_after: timedelta = UNSEALED_AFTER
) -> VerificationReport:
    """Verify this deployment's log against its checkpoint file and audit key.

    Every event committed so far is sealed first, so the chain checked is complete. If that
    fails (the chain head or an intake row held locked by someone), the log is verified as it
    stands, and the events left waiting are reported by the ``unsealed`` check.
    """
    try:
        await seal_pending(database)
        sealing_failed = None
    except DBAPIError as error:
        sealing_failed = str(error.orig).splitlines()[0]
    lines = await asyncio.to_thread(read_checkpoints, checkpoint_path(settings))
    public_key = signing_key(settings).public_key()
    async with database.sessions() as session, session.begin():
        report = await verify_log(session, lines, public_key, unsealed_after=unsealed_after)
    if sealing_failed is not None:
        report.notes.append(f"pending events could not be sealed first: {sealing_failed}")
    return report
