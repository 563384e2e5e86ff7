"""Password hashing (Argon2id) and the password policy.

Hashes carry their own parameters (``$argon2id$v=19$m=...,t=...,p=...``), so a hash made under
older, weaker parameters still verifies and is replaced on the next successful login. A login
for an unknown account verifies against a dummy hash, so that it costs the same time as a wrong
password and the answer time does not tell which email addresses have accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # Argon2 accepts any length; a cap keeps a megabyte "password" from costing CPU


class PasswordPolicyError(ValueError):
    """A new password that the policy refuses; the message says which rule."""


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a password: whether it matched, and a fresher hash if due."""

    ok: bool
    new_hash: str | None = None


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    """The hasher with the current parameters (RFC 9106 low-memory profile: argon2-cffi's default).

    Cached because it is immutable configuration, not state.
    """
    return PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("contango-dummy-password-for-timing")


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password``."""
    return hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> Verification:
    """Check ``password`` against ``stored_hash`` (``None``: no local password, check a dummy).

    When ``stored_hash`` was made with other parameters than the current ones, ``new_hash`` is
    the password hashed again under the current parameters, for the caller to store.
    """
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]  # still verified, so the time spent is the same
    target = stored_hash if stored_hash is not None else _dummy_hash()
    try:
        hasher().verify(target, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Verification(ok=False)
    if stored_hash is None:
        return Verification(ok=False)
    if hasher().check_needs_rehash(stored_hash):
        return Verification(ok=True, new_hash=hash_password(password))
    return Verification(ok=True)


def check_policy(password: str, email: str) -> None:
    """Refuse a password that is too short, too long, or is (or contains) the account's email.

    Raises :class:`PasswordPolicyError` naming the rule that failed.
    """
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"the password must be at most {MAX_LENGTH} characters long")
    lowered = password.casefold()
    address = email.strip().casefold()
    local_part = address.split("@", 1)[0]
    if address and address in lowered:
        raise PasswordPolicyError("the password must not contain the email address")
    if len(local_part) >= 4 and lowered == local_part:
        raise PasswordPolicyError("the password must not be the name of the email address")
    if len(set(password)) < 4:
        raise PasswordPolicyError("the password must use at least 4 different characters")
