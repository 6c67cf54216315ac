"""The key the log signs its checkpoints with, and the name it signs them under.

The key comes from ``CLAIMLEDGER_LOG_KEY_SEED`` (a base64 32-byte Ed25519 seed) or
``CLAIMLEDGER_LOG_KEY_FILE`` (a PEM PKCS#8 Ed25519 private key, as
``openssl genpkey -algorithm ed25519`` writes it, or a base64 seed on one line). With neither,
the embedded server makes one at its first start, ``log-key.pem`` in its data directory, which
only its owner may read (mode 0600), and reads it at every later start; a server on
``DATABASE_URL`` then signs nothing.

The key's name is the log's origin, the first line of every checkpoint.
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from claimledger.runtime.settings import Settings
from claimledger.transparency.notes import SEED_SIZE, NoteSigner, is_key_name

if TYPE_CHECKING:
    # cryptography is imported only where a key is read: it costs every process that loads it
    # several MB, and only the log's worker (and the commands that check signatures) need it.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE_NAME = "log-key.pem"
DEFAULT_ORIGIN = "localhost/claimledger"
_MODE = 0o600
_KEY_FILE = "CLAIMLEDGER_LOG_KEY_FILE"
_KEY_SEED = "CLAIMLEDGER_LOG_KEY_SEED"
_MADE = "the log key made in CLAIMLEDGER_DATA_DIR"


class LogKeyError(ValueError):
    """The settings name a signing key (or an origin) the log cannot use; the message says which
    setting, never the key."""


def log_origin_of(settings: Settings) -> str:
    """The log's origin: ``CLAIMLEDGER_LOG_ORIGIN``, else the public URL's host, port and path
    followed by ``/log``, else ``localhost/claimledger``."""
    if settings.log_origin is not None:
        if not is_key_name(settings.log_origin):
            msg = f"CLAIMLEDGER_LOG_ORIGIN {settings.log_origin!r} holds a space or a '+'"
            raise LogKeyError(msg)
        return settings.log_origin
    if settings.public_url is None:
        return DEFAULT_ORIGIN
    parts = urlsplit(settings.public_url)
    host = parts.netloc.rpartition("@")[2].lower()
    origin = f"{host}{parts.path.rstrip('/')}/log"
    if not is_key_name(origin):
        msg = (
            f"the log's origin {origin!r}, made from CLAIMLEDGER_PUBLIC_URL, holds a '+': "
            "set CLAIMLEDGER_LOG_ORIGIN"
        )
        raise LogKeyError(msg)
    return origin


def made_key_file(settings: Settings) -> Path:
    """Where the embedded server keeps the key it made."""
    return settings.data_dir.expanduser() / KEY_FILE_NAME


def log_signer(settings: Settings, *, generate: bool) -> NoteSigner | None:
    """The log's signer: the key of ``CLAIMLEDGER_LOG_KEY_SEED``, else of
    ``CLAIMLEDGER_LOG_KEY_FILE``, else (``generate``, the embedded server, called once its data
    directory is initialised) the key kept in the data directory, made at the first call; else
    None, and the log is unsigned. A key that cannot be used raises :class:`LogKeyError`."""
    origin = log_origin_of(settings)
    if settings.log_key_seed is not None and settings.log_key_file is not None:
        msg = f"{_KEY_FILE} and {_KEY_SEED} are both set: set one of them"
        raise LogKeyError(msg)
    if settings.log_key_seed is not None:
        seed = _seed(settings.log_key_seed)
        if seed is None:
            msg = f"{_KEY_SEED} is not the base64 of a {SEED_SIZE}-byte Ed25519 seed"
            raise LogKeyError(msg)
        return NoteSigner.from_seed(origin, seed)
    if settings.log_key_file is not None:
        return NoteSigner(origin, _key_in(settings.log_key_file, _KEY_FILE))
    if not generate:
        return None
    return NoteSigner(origin, _made_key(made_key_file(settings)))


def _seed(text: str) -> bytes | None:
    """The seed a line of base64 holds, or None."""
    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return seed if len(seed) == SEED_SIZE else None


def _key_in(path: Path, setting: str) -> Ed25519PrivateKey:
    """The private key a file holds, PEM or a base64 seed."""
    try:
        data = path.read_bytes()
    except OSError as error:
        msg = f"{setting}: cannot read {path}: {error.strerror or error}"
        raise LogKeyError(msg) from None
    if data.lstrip().startswith(b"-----BEGIN"):
        return _pem_key(data, path, setting)
    try:
        seed = _seed(data.decode("ascii"))
    except UnicodeDecodeError:
        seed = None
    if seed is None:
        msg = (
            f"{setting}: {path} holds neither an Ed25519 private key in PEM (PKCS#8) nor the "
            f"base64 of a {SEED_SIZE}-byte seed"
        )
        raise LogKeyError(msg)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(seed)


def _pem_key(data: bytes, path: Path, setting: str) -> Ed25519PrivateKey:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        msg = f"{setting}: the key in {path} is encrypted; the log needs it unencrypted"
        raise LogKeyError(msg) from None
    except (ValueError, UnsupportedAlgorithm):
        msg = f"{setting}: {path} holds no private key PEM can be read as"
        raise LogKeyError(msg) from None
    if not isinstance(key, Ed25519PrivateKey):
        msg = f"{setting}: {path} holds a key of type {type(key).__name__}, not an Ed25519 key"
        raise LogKeyError(msg)
    return key


def _made_key(path: Path) -> Ed25519PrivateKey:
    """The key kept in ``path``, made first when the file does not exist."""
    return _key_in(made_key(path), _MADE)


def made_key(path: Path) -> Path:
    """``path``, holding a key made now when it held none, and readable by its owner alone."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _make(path)
        mode = path.stat().st_mode & 0o777
    except OSError as error:
        msg = f"{_MADE}: cannot keep it in {path}: {error.strerror or error}"
        raise LogKeyError(msg) from None
    if mode & 0o077:
        msg = f"{_MADE}, {path}, may be read by others than its owner (mode {mode:04o}): chmod 600"
        raise LogKeyError(msg)
    return path


def _pkcs8_pem(seed: bytes) -> bytes:
    """The PEM (PKCS#8, RFC 8410) of the Ed25519 private key of ``seed``: a fixed prefix, then
    the seed."""
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    body = base64.encodebytes(der).decode().replace("\n", "")
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n".encode()


def _make(path: Path) -> None:
    """Write a new key to ``path`` at once (never half written), only its owner may read it;
    when another process made it meanwhile, keep that one."""
    pem = _pkcs8_pem(os.urandom(SEED_SIZE))
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.unlink(missing_ok=True)
    descriptor = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _MODE)
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), _MODE)  # the umask may only take bits away; make it exact
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        # A link, unlike a rename, never replaces a key another process has just made.
        os.link(scratch, path)
    except FileExistsError:
        pass
    finally:
        scratch.unlink(missing_ok=True)
