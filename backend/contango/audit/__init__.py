"""The immutable, hash-chained audit log.

Every state-changing request and every authentication event calls :func:`record_event` in the
same transaction as the change; that records the event in an intake table without taking any
shared lock (:mod:`contango.audit.chain`). A sealer (:func:`run_sealer`, a task of each API
process) moves committed events into the chain in batches under one lock, numbering them and
chaining SHA-256 over RFC 8785 canonical JSON (:mod:`contango.audit.seal`,
:mod:`contango.audit.canonical`). Signed checkpoints of the head live in a file apart from the
database (:mod:`contango.audit.checkpoints`); :mod:`contango.audit.verify` checks all of it.
Export, verification, checkpoints and :func:`list_entries` seal what is pending first.

Deployment on PostgreSQL: run the migrations as the role that owns the tables, and the
application as another role that may only read, append, and seal::

    CREATE ROLE contango_app LOGIN PASSWORD '...';
    GRANT SELECT, INSERT ON audit_log TO contango_app;
    GRANT SELECT, INSERT, DELETE ON audit_intake TO contango_app;  -- DELETE: sealed rows only
    GRANT SELECT, UPDATE ON audit_head TO contango_app;   -- the head row moves on each batch
    -- plus the privileges on the other tables the application needs

Even the owner cannot UPDATE, DELETE or TRUNCATE ``audit_log``, nor UPDATE or TRUNCATE
``audit_intake``, nor DELETE an intake row the log does not hold: triggers refuse it. What the
application role can still do is what appending implies: write events of its own, or hold
intake rows locked so that they stay unsealed (verification reports those). Keep the audit
signing key (``CONTANGO_AUDIT_SIGNING_KEY_FILE``) and a copy of
``<data_dir>/audit/checkpoints.jsonl`` out of reach of the database's administrators.
"""

from contango.audit.chain import AuditHeadMissingError, Entry, PendingEntry, record_event
from contango.audit.checkpoints import (
    Checkpoint,
    checkpoint_path,
    run_checkpoints,
    signing_key,
    write_checkpoint,
)
from contango.audit.export import EntryFilter, Export, list_entries, start_export
from contango.audit.seal import Sealed, run_sealer, seal_batch, seal_pending
from contango.audit.verify import Check, Problem, VerificationReport, verify_audit_log

__all__ = [
    "AuditHeadMissingError",
    "Check",
    "Checkpoint",
    "Entry",
    "EntryFilter",
    "Export",
    "PendingEntry",
    "Problem",
    "Sealed",
    "VerificationReport",
    "checkpoint_path",
    "list_entries",
    "record_event",
    "run_checkpoints",
    "run_sealer",
    "seal_batch",
    "seal_pending",
    "signing_key",
    "start_export",
    "verify_audit_log",
    "write_checkpoint",
]
