"""Argon2id hashing, rehash on parameter change, and the password policy."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, extract_parameters

from contango.auth import passwords


def test_hashes_are_argon2id_and_verify_only_the_right_password() -> None:
    stored = passwords.hash_password("a long enough passphrase")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a long enough passphrase").ok
    assert not passwords.verify_password(stored, "a long enough passphrasE").ok


def test_a_hash_with_weaker_parameters_verifies_and_comes_back_rehashed() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pass phrase 12")
    checked = passwords.verify_password(weak, "pass phrase 12")
    assert checked.ok
    assert checked.new_hash is not None
    assert extract_parameters(checked.new_hash).memory_cost == PasswordHasher().memory_cost
    assert passwords.verify_password(checked.new_hash, "pass phrase 12").new_hash is None


def test_no_stored_hash_never_verifies() -> None:
    assert not passwords.verify_password(None, "contango-dummy-password-for-timing").ok


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short pass", "at least 12"),
        ("x" * 1025, "at most"),
        ("trader@desk.example", "email"),
        ("my trader@desk.example pw", "email"),
        ("aaaaaaaaaaaaaaaa", "4 different"),
    ],
)
def test_policy_refuses_and_names_the_rule(password: str, rule: str) -> None:
    with pytest.raises(passwords.PasswordPolicyError, match=rule):
        passwords.check_policy(password, "Trader@Desk.example")


def test_policy_accepts_a_long_passphrase() -> None:
    passwords.check_policy("correct horse battery staple", "trader@desk.example")
