"""Envelope encryption of secrets at rest, the key-encryption key in settings, and rotation."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from gql_api.secrets_box import SecretBox, SecretBoxError, kek_id, parse_kek
from gql_api.settings import Settings


def new_kek() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_a_sealed_secret_opens_only_in_its_context() -> None:
    box = SecretBox(new_kek())
    sealed = box.seal("sk-very-secret", "provider_key:alice:openai")
    assert "sk-very-secret" not in sealed
    assert box.kek_of(sealed) == box.current_id
    assert box.open(sealed, "provider_key:alice:openai") == "sk-very-secret"
    with pytest.raises(SecretBoxError):
        box.open(sealed, "provider_key:bob:openai")  # copied onto bob's row


def test_each_seal_is_different() -> None:
    box = SecretBox(new_kek())
    assert box.seal("same", "c") != box.seal("same", "c")


@pytest.mark.parametrize("part", [2, 3])
def test_a_tampered_secret_does_not_open(part: int) -> None:
    box = SecretBox(new_kek())
    pieces = box.seal("sk-very-secret", "ctx").split(".")
    raw = bytearray(base64.urlsafe_b64decode(pieces[part] + "=="))
    raw[-1] ^= 1
    pieces[part] = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    with pytest.raises(SecretBoxError):
        box.open(".".join(pieces), "ctx")


def test_another_kek_cannot_open_it_and_says_which_kek_is_missing() -> None:
    old = SecretBox(new_kek())
    sealed = old.seal("sk-very-secret", "ctx")
    with pytest.raises(SecretBoxError, match=old.current_id):
        SecretBox(new_kek()).open(sealed, "ctx")
    with pytest.raises(SecretBoxError):
        SecretBox(new_kek()).open("not sealed at all", "ctx")


def test_rotation_old_keks_open_and_rewrap_moves_to_the_current_one() -> None:
    first, second = new_kek(), new_kek()
    sealed = SecretBox(first).seal("sk-very-secret", "ctx")
    rotated = SecretBox(second, old=[first])
    assert rotated.open(sealed, "ctx") == "sk-very-secret"
    moved = rotated.rewrap(sealed, "ctx")
    assert rotated.kek_of(moved) == kek_id(parse_kek(second)) != rotated.kek_of(sealed)
    assert SecretBox(second).open(moved, "ctx") == "sk-very-secret"  # no old key needed now


@pytest.mark.parametrize("value", ["", "short", base64.b64encode(b"x" * 16).decode(), "%%%"])
def test_a_malformed_kek_is_refused(value: str) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox(value)


def test_urlsafe_and_standard_base64_name_the_same_kek() -> None:
    raw = bytes(range(250, 256)) + os.urandom(26)
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert SecretBox(standard).current_id == SecretBox(urlsafe).current_id


def test_development_generates_a_kek_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(env="development", data_dir=tmp_path, encryption_key=None)
    first = settings.resolved_encryption_key()
    assert settings.resolved_encryption_key() == first
    SecretBox(first)  # well formed
    mode = stat.S_IMODE((tmp_path / "dev-encryption-key").stat().st_mode)
    assert mode == 0o600


def test_production_requires_a_kek(tmp_path: Path) -> None:
    settings = Settings(env="production", jwt_secret="r" * 40, data_dir=tmp_path)
    with pytest.raises(ValueError, match="CHATGQL_ENCRYPTION_KEY"):
        settings.resolved_encryption_key()
    assert not (tmp_path / "dev-encryption-key").exists()
