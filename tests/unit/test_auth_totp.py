"""TOTP against the RFC 6238 test vectors, one-time acceptance, the secret's encryption."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contango.auth import mfa

# RFC 6238 Appendix B (HMAC-SHA1, key "12345678901234567890"); our codes are the last 6 digits.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


@pytest.mark.parametrize(("unix_time", "eight_digits"), RFC_VECTORS)
def test_codes_match_the_rfc_6238_vectors(unix_time: int, eight_digits: str) -> None:
    now = datetime.fromtimestamp(unix_time, UTC)
    assert mfa.time_step(now) == unix_time // 30
    assert mfa.code_at(RFC_SECRET, mfa.time_step(now)) == eight_digits[-6:]


def test_a_code_is_accepted_once_and_one_step_of_drift_either_way() -> None:
    now = datetime.fromtimestamp(1111111111, UTC)
    step = mfa.time_step(now)
    assert mfa.accept_code(RFC_SECRET, "050471", now, None) == step
    assert mfa.accept_code(RFC_SECRET, "050471", now, step) is None  # replay
    previous, following = mfa.code_at(RFC_SECRET, step - 1), mfa.code_at(RFC_SECRET, step + 1)
    assert mfa.accept_code(RFC_SECRET, previous, now, None) == step - 1
    assert mfa.accept_code(RFC_SECRET, following, now, step) == step + 1
    two_ahead = mfa.code_at(RFC_SECRET, step + 2)
    assert mfa.accept_code(RFC_SECRET, two_ahead, now, None) is None
    assert mfa.accept_code(RFC_SECRET, "05047", now, None) is None
    assert mfa.accept_code(RFC_SECRET, "abcdef", now, None) is None


@settings(max_examples=30, deadline=None)
@given(secret=st.just(mfa.new_secret()), server=st.binary(min_size=16, max_size=64))
def test_encrypted_secret_round_trips_only_for_its_user_and_server_secret(
    secret: str, server: bytes
) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    sealed = mfa.encrypt_secret(server, user, secret)
    assert secret not in sealed
    assert mfa.decrypt_secret(server, user, sealed) == secret
    with pytest.raises(mfa.MfaSecretError):
        mfa.decrypt_secret(server, other, sealed)
    with pytest.raises(mfa.MfaSecretError):
        mfa.decrypt_secret(server + b"x", user, sealed)


def test_recovery_codes_are_distinct_and_match_only_their_own_hash() -> None:
    codes = mfa.new_recovery_codes(b"k" * 32)
    assert len(set(codes.plain)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes.plain)
    typed = codes.plain[0].upper().replace("-", " ")
    assert mfa.hash_recovery_code(b"k" * 32, typed) == codes.hashes[0]
    assert mfa.hash_recovery_code(b"k" * 32, codes.plain[1]) != codes.hashes[0]
    assert mfa.hash_recovery_code(b"other-secret" * 3, codes.plain[0]) != codes.hashes[0]
