"""Signing keys and the server secret: loaded from configured files, or generated in development.

Production points the settings at mounted secrets (the settings refuse to start without them);
the embedded default creates them once under ``<data_dir>/keys`` with owner-only permissions,
so a fresh machine needs no setup and restarts keep users logged in.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contango.settings import Settings


class KeyFileError(Exception):
    """A configured key file is missing or is not the expected kind of key."""


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    try:
        os.link(temporary, path)  # fails if another process created it first: theirs wins
    except FileExistsError:
        pass
    finally:
        temporary.unlink()


def load_ed25519(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at ``path``."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as error:
        raise KeyFileError(f"key file {path} does not exist") from error
    except ValueError as error:
        raise KeyFileError(f"key file {path} is not a PEM private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"key file {path} holds a {type(key).__name__}, expected Ed25519")
    return key


def ed25519_key(configured: Path | None, settings: Settings, name: str) -> Ed25519PrivateKey:
    """The configured key, or in development ``<keys_dir>/<name>.pem``, created on first use."""
    if configured is not None:
        return load_ed25519(configured)
    path = settings.keys_dir / f"{name}.pem"
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(path, pem)
    return load_ed25519(path)


def server_secret(settings: Settings) -> bytes:
    """The server secret (CSRF tokens, MFA secret encryption), generated in development."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.keys_dir / "secret.key"
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_bytes().strip()
