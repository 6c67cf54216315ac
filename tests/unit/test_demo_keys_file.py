"""Where the demo keys are kept: in the embedded server's data directory, or beside it, one file per
database address, which names no password."""

from __future__ import annotations

from pathlib import Path

from claimledger.runtime.demo_keys import _address, keys_file


def test_the_embedded_server_keeps_them_in_its_data_directory(tmp_path: Path) -> None:
    assert keys_file(tmp_path / "pgdata", None) == tmp_path / "pgdata" / "demo-keys.json"


def test_a_database_url_keeps_them_beside_the_data_directory(tmp_path: Path) -> None:
    one = keys_file(tmp_path / "pgdata", "postgresql://postgres@db:5432/one")
    other = keys_file(tmp_path / "pgdata", "postgresql://postgres@db:5432/other")
    assert one.parent == tmp_path
    assert one.name.startswith("demo-keys-")
    assert one != other
    # A new password is the same database.
    assert keys_file(tmp_path / "pgdata", "postgresql://postgres:new@db:5432/one") == keys_file(
        tmp_path / "pgdata", "postgresql://postgres:old@db:5432/one"
    )


def test_the_address_names_no_password() -> None:
    assert _address("postgresql://app:s3cret@db:5432/ledger") == "postgresql://app@db:5432/ledger"
    assert _address("postgresql://app@db/ledger?password=s3cret") == "postgresql://app@db/ledger"
    assert (
        _address("postgresql://app@db/ledger?password=s3cret&sslmode=require")
        == "postgresql://app@db/ledger?sslmode=require"
    )
    assert _address("host=db dbname=ledger password=s3cret user=app") == (
        "host=db dbname=ledger user=app"
    )
