"""Where the log's signing key comes from: a seed, a file (PEM or a seed), or, for the embedded
server, a file it makes once in its data directory; and the origin the key is named after."""

from __future__ import annotations

import base64
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from claimledger.runtime.log_keys import (
    DEFAULT_ORIGIN,
    KEY_FILE_NAME,
    LogKeyError,
    log_origin_of,
    log_signer,
    made_key_file,
)
from claimledger.runtime.settings import Settings

SEED = bytes(range(32))
SEED64 = base64.b64encode(SEED).decode()
PUBLIC = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()


@pytest.fixture
def no_umask() -> Iterator[None]:
    """A umask that takes no permission away: the key file's mode must not depend on it."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _pem(key: Ed25519PrivateKey | X25519PrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.NoEncryption()
        if password is None
        else serialization.BestAvailableEncryption(password)
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def test_a_seed_setting(tmp_path: Path) -> None:
    signer = log_signer(Settings(data_dir=tmp_path, log_key_seed=SEED64), generate=True)
    assert signer is not None
    assert (signer.public_key, signer.name) == (PUBLIC, DEFAULT_ORIGIN)
    assert list(tmp_path.iterdir()) == []


def test_a_pem_file(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    path.write_bytes(_pem(Ed25519PrivateKey.from_private_bytes(SEED)))
    signer = log_signer(Settings(log_key_file=path), generate=False)
    assert signer is not None
    assert signer.public_key == PUBLIC


def test_a_file_holding_a_seed(tmp_path: Path) -> None:
    path = tmp_path / "seed"
    path.write_text(SEED64 + "\n")
    signer = log_signer(Settings(log_key_file=path), generate=False)
    assert signer is not None
    assert signer.public_key == PUBLIC


def test_no_key_and_nothing_to_make_is_an_unsigned_log(tmp_path: Path) -> None:
    assert log_signer(Settings(data_dir=tmp_path), generate=False) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.usefixtures("no_umask")
def test_the_embedded_server_makes_a_key_once_only_its_owner_reads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "new" / "pgdata")
    first = log_signer(settings, generate=True)
    path = made_key_file(settings)
    assert path == tmp_path / "new" / "pgdata" / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----\n")
    assert sorted(p.name for p in path.parent.iterdir()) == [KEY_FILE_NAME]
    again = log_signer(settings, generate=True)
    assert first is not None
    assert again is not None
    assert again.public_key == first.public_key
    # The file is what the settings may name too.
    named = log_signer(Settings(log_key_file=path), generate=False)
    assert named is not None
    assert named.public_key == first.public_key


def test_a_key_file_already_in_the_data_directory_is_used(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    path.write_bytes(_pem(Ed25519PrivateKey.from_private_bytes(SEED)))
    path.chmod(0o600)
    signer = log_signer(Settings(data_dir=tmp_path), generate=True)
    assert signer is not None
    assert signer.public_key == PUBLIC


def test_a_made_key_others_may_read_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    log_signer(settings, generate=True)
    made_key_file(settings).chmod(0o640)
    with pytest.raises(LogKeyError, match=r"CLAIMLEDGER_DATA_DIR.*mode 0640.*chmod 600"):
        log_signer(settings, generate=True)


def test_both_settings_at_once_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "seed"
    path.write_text(SEED64)
    settings = Settings(log_key_file=path, log_key_seed=SEED64)
    with pytest.raises(LogKeyError, match="CLAIMLEDGER_LOG_KEY_FILE and CLAIMLEDGER_LOG_KEY_SEED"):
        log_signer(settings, generate=True)


@pytest.mark.parametrize(
    "seed",
    ["not base64!", base64.b64encode(SEED[:31]).decode(), base64.b64encode(SEED + b"x").decode()],
)
def test_a_bad_seed_is_refused_without_being_shown(seed: str) -> None:
    with pytest.raises(LogKeyError, match="CLAIMLEDGER_LOG_KEY_SEED") as refused:
        log_signer(Settings(log_key_seed=seed), generate=False)
    assert seed not in str(refused.value)


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.pem", tmp_path):
        with pytest.raises(LogKeyError, match="CLAIMLEDGER_LOG_KEY_FILE: cannot read"):
            log_signer(Settings(log_key_file=path), generate=False)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"hello\n", "neither an Ed25519 private key"),
        (b"\xff\xfe\x00", "neither an Ed25519 private key"),
        (SEED64.encode() + b"\n" + SEED64.encode() + b"\n", "neither an Ed25519 private key"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "no private key"),
        (_pem(Ed25519PrivateKey.generate(), b"secret"), "encrypted"),
        (_pem(X25519PrivateKey.generate()), "not an Ed25519 key"),
    ],
)
def test_a_key_file_with_other_content_is_refused(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(LogKeyError, match=f"CLAIMLEDGER_LOG_KEY_FILE: .*{says}"):
        log_signer(Settings(log_key_file=path), generate=False)


# --- the origin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("public_url", "origin"),
    [
        (None, "localhost/claimledger"),
        ("https://ledger.example.org", "ledger.example.org/log"),
        ("http://Ledger.Example.org:8080/claims", "ledger.example.org:8080/claims/log"),
        ("https://user:password@example.org/a/b", "example.org/a/b/log"),
    ],
)
def test_the_origin_is_derived_from_the_public_url(public_url: str | None, origin: str) -> None:
    settings = Settings(public_url=public_url)
    assert log_origin_of(settings) == origin
    signer = log_signer(Settings(public_url=public_url, log_key_seed=SEED64), generate=False)
    assert signer is not None
    assert signer.name == origin


def test_a_named_origin_wins() -> None:
    settings = Settings(public_url="https://ledger.example.org", log_origin="example.org/ours")
    assert log_origin_of(settings) == "example.org/ours"


def test_an_origin_that_cannot_name_a_key_is_refused() -> None:
    with pytest.raises(LogKeyError, match="CLAIMLEDGER_LOG_ORIGIN"):
        log_origin_of(Settings(public_url="https://example.org/a+b"))
    with pytest.raises(LogKeyError, match="CLAIMLEDGER_LOG_ORIGIN"):
        log_origin_of(Settings(log_origin="a b"))
    with pytest.raises(ValueError, match="CLAIMLEDGER_LOG_ORIGIN"):
        Settings.from_env({"CLAIMLEDGER_LOG_ORIGIN": "example.org/a+b"})


def test_the_settings_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "CLAIMLEDGER_LOG_KEY_FILE": str(tmp_path / "key.pem"),
            "CLAIMLEDGER_LOG_KEY_SEED": SEED64,
            "CLAIMLEDGER_LOG_ORIGIN": " example.org/log ",
            "CLAIMLEDGER_CHECKPOINT_SECONDS": "2.5",
        }
    )
    assert settings.log_key_file == tmp_path / "key.pem"
    assert settings.log_key_seed == SEED64
    assert settings.log_origin == "example.org/log"
    assert settings.checkpoint_seconds == 2.5
    assert SEED64 not in repr(settings)
    defaults = Settings.from_env({})
    assert (defaults.log_key_file, defaults.log_key_seed, defaults.log_origin) == (None,) * 3
    assert defaults.checkpoint_seconds == 10.0
