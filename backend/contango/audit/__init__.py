"""The immutable, hash-chained audit log.

Every state-changing request and every authentication event calls :func:`record_event` in the
same transaction as the change. Entries are chained by SHA-256 over RFC 8785 canonical JSON
(:mod:`contango.audit.canonical`); appends serialize on one head row (:mod:`contango.audit.chain`);
signed checkpoints of the head live in a file apart from the database
(:mod:`contango.audit.checkpoints`); :mod:`contango.audit.verify` checks all of it.

Deployment on PostgreSQL: run the migrations as the role that owns the tables, and the
application as another role that may only read and append::

    CREATE ROLE contango_app LOGIN PASSWORD '...';
    GRANT SELECT, INSERT ON audit_log TO contango_app;
    GRANT SELECT, UPDATE ON audit_head TO contango_app;   -- the head row moves on each append
    -- plus the privileges on the other tables the application needs

Even the owner cannot UPDATE, DELETE or TRUNCATE ``audit_log``: triggers refuse it. Keep the
audit signing key (``CONTANGO_AUDIT_SIGNING_KEY_FILE``) and a copy of
``<data_dir>/audit/checkpoints.jsonl`` out of reach of the database's administrators.
"""

from contango.audit.chain import AuditHeadMissingError, Entry, record_event
from contango.audit.checkpoints import (
    Checkpoint,
    checkpoint_path,
    run_checkpoints,
    signing_key,
    write_checkpoint,
)
from contango.audit.export import EntryFilter, Export, list_entries, start_export
from contango.audit.verify import Check, Problem, VerificationReport, verify_audit_log

__all__ = [
    "AuditHeadMissingError",
    "Check",
    "Checkpoint",
    "Entry",
    "EntryFilter",
    "Export",
    "Problem",
    "VerificationReport",
    "checkpoint_path",
    "list_entries",
    "record_event",
    "run_checkpoints",
    "signing_key",
    "start_export",
    "verify_audit_log",
    "write_checkpoint",
]
