"""Every table, imported here so that ``Base.metadata`` knows the whole schema."""

from contango.db.models.audit import AuditEntry, AuditHead
from contango.db.models.identity import (
    AuthSession,
    LoginThrottle,
    RecoveryCode,
    RefreshToken,
    Team,
    User,
)
from contango.db.models.work import Dataset, Job, JobStatus, Strategy

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuthSession",
    "Dataset",
    "Job",
    "JobStatus",
    "LoginThrottle",
    "RecoveryCode",
    "RefreshToken",
    "Strategy",
    "Team",
    "User",
]
