"""TOTP second factor (RFC 6238), its secret at rest, and one-time recovery codes.

A code is accepted once: the caller stores the time step of the last accepted code and passes
it back, and a code of that step or an earlier one is refused, so a code read over someone's
shoulder (or replayed from a log) cannot be used again. One step of clock drift either way is
allowed, as RFC 6238 section 5.2 recommends.

The secret is encrypted with AES-256-GCM under a key derived from the server secret with HKDF;
the user id is the associated data, so a ciphertext copied onto another user's row fails to
decrypt. Recovery codes are random (50 bits) and stored as HMAC-SHA256 under the server secret:
a leaked database alone does not reveal them, and a lookup needs no slow hash per code.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER_NAME = "Contango"
DIGITS = 6
PERIOD_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud without doubt
_CIPHER_VERSION = "v1"


class MfaSecretError(ValueError):
    """A stored TOTP secret that does not decrypt (wrong server secret, or tampered)."""


def new_secret() -> str:
    """A fresh base32 TOTP secret of 160 bits (the HMAC-SHA1 block the RFC recommends)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app imports."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER_NAME
    )


def qr_svg_data_uri(uri: str) -> str:
    """The URI as a QR code, an SVG ``data:`` URI the web app shows in an ``<img>``."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=4))


def time_step(now: datetime) -> int:
    """The RFC 6238 time step (T) that contains ``now``."""
    return int(now.timestamp()) // PERIOD_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of ``secret`` for time step ``step``."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=PERIOD_SECONDS).generate_otp(step)


def accept_code(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to, if it is valid now and newer than ``last_step``.

    Steps now-1, now and now+1 are tried; each comparison is constant-time. ``None`` means the
    code is wrong, too old, or was already used.
    """
    candidate = code.strip().replace(" ", "")
    if len(candidate) != DIGITS or not candidate.isdigit():
        return None
    current = time_step(now)
    accepted = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), candidate):
            accepted = step
    if accepted is None or (last_step is not None and accepted <= last_step):
        return None
    return accepted


def _cipher(server_secret: bytes) -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"contango totp secret at rest"
    ).derive(server_secret)
    return AESGCM(key)


def encrypt_secret(server_secret: bytes, user_id: uuid.UUID, secret: str) -> str:
    """``secret`` encrypted for storage on ``user_id``'s row: ``v1.<base64url(nonce|ct)>``."""
    nonce = secrets.token_bytes(12)
    sealed = _cipher(server_secret).encrypt(nonce, secret.encode(), user_id.bytes)
    return f"{_CIPHER_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt_secret(server_secret: bytes, user_id: uuid.UUID, stored: str) -> str:
    """The TOTP secret stored on ``user_id``'s row; :class:`MfaSecretError` if it is not ours."""
    version, _, payload = stored.partition(".")
    if version != _CIPHER_VERSION:
        raise MfaSecretError(f"stored TOTP secret has unknown format {version!r}")
    try:
        raw = base64.urlsafe_b64decode(payload.encode())
        opened = _cipher(server_secret).decrypt(raw[:12], raw[12:], user_id.bytes)
    except (InvalidTag, ValueError, binascii.Error) as error:
        raise MfaSecretError(
            "stored TOTP secret does not decrypt with this server secret"
        ) from error
    return opened.decode()


@dataclass(frozen=True, slots=True)
class RecoveryCodes:
    """Recovery codes to show once (``plain``) and their hashes to store (same order)."""

    plain: tuple[str, ...]
    hashes: tuple[str, ...]


def normalize_recovery_code(code: str) -> str:
    """A typed recovery code in canonical form: lower-case, no spaces or dashes."""
    return "".join(character for character in code.lower() if character.isalnum())


def hash_recovery_code(server_secret: bytes, code: str) -> str:
    """The stored form of a recovery code."""
    canonical = normalize_recovery_code(code)
    return hmac.new(server_secret, f"recovery:{canonical}".encode(), hashlib.sha256).hexdigest()


def new_recovery_codes(server_secret: bytes, count: int = RECOVERY_CODE_COUNT) -> RecoveryCodes:
    """``count`` fresh codes such as ``k7pqz-m3xtw`` (10 characters of 31: ~50 bits each)."""
    plain = []
    for _ in range(count):
        body = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        plain.append(f"{body[:5]}-{body[5:]}")
    return RecoveryCodes(
        plain=tuple(plain), hashes=tuple(hash_recovery_code(server_secret, c) for c in plain)
    )
