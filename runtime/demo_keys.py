"""The demo's editor and admin keys, kept in a file so that they keep working across restarts.

A demo start reads the file, keeps each key the database still accepts with its role (existing and
not revoked), makes a new key for any other, and rewrites the file when something changed. It
never revokes a key: a server still running may have handed it out.

With the embedded server the file is ``demo-keys.json`` in its data directory, so it lives and
goes with that database. With ``DATABASE_URL`` it is ``demo-keys-<digest>.json`` beside the data
directory (never inside it: PostgreSQL initialises only an empty directory), one file per database
address. Only the owner may read it (mode 0600): it holds secrets the database keeps only hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from claimledger.runtime.keys import KeyStore, Role

EDITOR_KEY_NAME = "demo editor (make run)"
ADMIN_KEY_NAME = "demo admin (make run)"
FILE_NAME = "demo-keys.json"
_MODE = 0o600
_EMBEDDED = "embedded"


@dataclass(frozen=True, slots=True)
class DemoKeys:
    editor: str
    admin: str
    path: Path
    # Whether a key was made by this start (the file then holds it too, unless it could not be
    # written: ``kept`` is False).
    renewed: bool
    kept: bool


def _address(database_url: str) -> str:
    """The database's address without its password: what the file is for, safe to show."""
    # A password may also come as a parameter (``?password=…``, or ``password=…`` in a conninfo).
    address = re.sub(r"password\s*=\s*[^&\s]*[&\s]*", "", database_url).rstrip("?& ")
    parts = urlsplit(address)
    if parts.password is None:
        return address
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}@{host}"))


def keys_file(data_dir: Path, database_url: str | None) -> Path:
    """Where a demo start keeps its keys: in the embedded server's data directory (no URL), or
    beside it, one file per database address."""
    data_dir = data_dir.expanduser().resolve()
    if database_url is None:
        return data_dir / FILE_NAME
    digest = hashlib.sha256(_address(database_url).encode()).hexdigest()[:16]
    return data_dir.parent / f"demo-keys-{digest}.json"


def _read(path: Path, database: str) -> dict[str, str]:
    """The secrets kept for ``database`` by role label; none when the file is missing, unreadable
    or for another database."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("database") != database:
        return {}
    secrets = kept.get("keys")
    if not isinstance(secrets, dict):
        return {}
    return {role: secret for role, secret in secrets.items() if isinstance(secret, str)}


def _write(path: Path, database: str, secrets: dict[str, str]) -> None:
    """Replace the file at once (never half written), created with mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"database": database, "keys": secrets}, indent=2) + "\n"
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.unlink(missing_ok=True)
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _MODE)
    try:
        os.fchmod(descriptor, _MODE)  # the umask may only take bits away; make it exact
        os.write(descriptor, text.encode())
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(scratch, path)


async def demo_keys(keys: KeyStore, data_dir: Path, database_url: str | None) -> DemoKeys:
    """An editor and an admin key for the demo: the kept ones the database still accepts, new
    ones for the rest. ``database_url`` is None for the embedded server."""
    path = keys_file(data_dir, database_url)
    database = _EMBEDDED if database_url is None else _address(database_url)
    kept = _read(path, database)
    secrets: dict[str, str] = {}
    renewed = False
    for role, name in ((Role.EDITOR, EDITOR_KEY_NAME), (Role.ADMIN, ADMIN_KEY_NAME)):
        secret = kept.get(role.label)
        principal = None if secret is None else await keys.authenticate(secret)
        if secret is not None and principal is not None and principal.role == role:
            secrets[role.label] = secret
        else:
            secrets[role.label] = (await keys.create(name=name, role=role)).secret
            renewed = True
    written = True
    try:
        if renewed or kept != secrets:
            _write(path, database, secrets)
        elif path.stat().st_mode & 0o777 != _MODE:
            path.chmod(_MODE)
    except OSError:
        written = False
    return DemoKeys(
        editor=secrets[Role.EDITOR.label],
        admin=secrets[Role.ADMIN.label],
        path=path,
        renewed=renewed,
        kept=written,
    )
