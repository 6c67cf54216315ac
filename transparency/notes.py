"""Checkpoints and the signed notes that carry them, as C2SP specifies them.

A checkpoint (https://c2sp.org/tlog-checkpoint) is a note text of three lines, each ending in a
newline: the log's *origin*, the tree size in decimal, the root hash in base64. Lines after
them are extension lines, opaque to this log.

A signed note (https://c2sp.org/signed-note) is that text, a blank line, and one line per
signature: an em dash (U+2014), a space, the key's name, a space, and the base64 of the 4-byte
key id followed by the signature of the text's bytes. This log signs with Ed25519 (signature type
0x01); its key id is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]`` and its verifier key,
which is all a reader needs, is ``<name>+<key id in 8 hex digits>+<base64(0x01 || public key)>``.

Base64 is always the standard alphabet with padding (RFC 4648, section 4), and only its one
canonical spelling of given bytes is accepted.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Imported where keys are used: cryptography costs every process that loads it several MB.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ED25519 = 0x01
HASH_SIZE = 32
SEED_SIZE = 32
# A reader must accept at least 16 signatures; more than this is taken for a malformed note.
MAX_SIGNATURES = 100
_SIGNATURE_PREFIX = "\u2014 "
_MAX_SIZE = 2**64 - 1
_SIZE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A checkpoint, note or verifier key that is malformed, or a note this key has not signed."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: the log's origin, its size in leaves, and its root hash (32 bytes).
    ``extensions`` holds the lines after the third, which the log does not interpret."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(text: str, what: str) -> bytes:
    """The bytes of canonical padded standard base64; anything else is refused."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None
    if _b64encode(raw) != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _utf8(text: str, what: str) -> bytes:
    """The text's bytes, refused when it holds a control character other than a newline."""
    if _CONTROL.search(text):
        raise NoteError(f"{what} holds a control character")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise NoteError(f"{what} is not valid UTF-8") from None


def is_key_name(name: str) -> bool:
    """Whether ``name`` may name a note's key: not empty, no space of any kind, no ``+``, no
    control character."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return name != "" and "+" not in name and not any(c.isspace() or c < " " for c in name)


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The note text of a checkpoint: origin, size and base64 root, each line ending in a
    newline."""
    if not origin or "\n" in origin:
        raise NoteError("a checkpoint's origin is one non-empty line")
    _utf8(origin, "the checkpoint's origin")
    if isinstance(size, bool) or not 0 <= size <= _MAX_SIZE:
        raise NoteError(f"a tree size is a 64-bit count, not {size!r}")
    if len(root) != HASH_SIZE:
        raise NoteError(f"a root hash is {HASH_SIZE} bytes, not {len(root)}")
    return f"{origin}\n{size}\n{_b64encode(root)}\n"


def parse_checkpoint(body: str) -> Checkpoint:
    """The checkpoint a note text states; a malformed one is refused with :class:`NoteError`."""
    _utf8(body, "the checkpoint")
    if not body.endswith("\n"):
        raise NoteError("a checkpoint ends with a newline")
    lines = body[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError("a checkpoint has an origin, a size and a root hash, one a line")
    if any(line == "" for line in lines):
        raise NoteError("a checkpoint has no empty line")
    origin, size, root64, *extensions = lines
    if not _SIZE.fullmatch(size) or int(size) > _MAX_SIZE:
        raise NoteError(f"the tree size {size!r} is not a decimal count without leading zeros")
    root = _b64decode(root64, "the root hash")
    if len(root) != HASH_SIZE:
        raise NoteError(f"the root hash is {len(root)} bytes, not {HASH_SIZE}")
    return Checkpoint(origin, int(size), root, tuple(extensions))


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte id of an Ed25519 key: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The verifier key string ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
    return f"{name}+{key_id(name, public_key).hex()}+{_b64encode(bytes([ED25519]) + public_key)}"


def _check_name(name: str) -> None:
    if not is_key_name(name):
        raise NoteError(f"{name!r} cannot name a key: it is empty or holds a space or a '+'")


class NoteSigner:
    """Signs note texts with one Ed25519 key under one name."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        _check_name(name)
        self._private_key = private_key
        self.name = name
        self.public_key = private_key.public_key().public_bytes_raw()
        self.key_id = key_id(name, self.public_key)
        self.verifier_key = verifier_key(name, self.public_key)

    @classmethod
    def from_seed(cls, name: str, seed: bytes) -> NoteSigner:
        """The signer of the Ed25519 key whose 32-byte seed (RFC 8032's private key) is ``seed``."""
        if len(seed) != SEED_SIZE:
            raise NoteError(f"an Ed25519 seed is {SEED_SIZE} bytes, not {len(seed)}")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        return cls(name, Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (which ends in a newline), a blank line, this key's
        signature line."""
        if not text.endswith("\n"):
            raise NoteError("a note's text ends with a newline")
        signature = self._private_key.sign(_utf8(text, "the note's text"))
        encoded = _b64encode(self.key_id + signature)
        return f"{text}\n{_SIGNATURE_PREFIX}{self.name} {encoded}\n"

    def verifier(self) -> NoteVerifier:
        """The verifier of this signer's notes."""
        return NoteVerifier(self.name, self.public_key)


@dataclass(frozen=True, slots=True)
class _Signature:
    name: str
    key_id: bytes
    signature: bytes


def _signature_line(line: str) -> _Signature:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not is_key_name(name):
        raise NoteError(f"the signature line's key name {name!r} is not a key name")
    raw = _b64decode(encoded, f"the signature by {name}")
    if len(raw) < 5:
        raise NoteError(f"the signature by {name} is too short")
    return _Signature(name, raw[:4], raw[4:])


def _split(note: str) -> tuple[str, list[_Signature]]:
    """A note's text and its signatures, refused when malformed."""
    _utf8(note, "the note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("a note has a blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("a note ends with a signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note has at most {MAX_SIGNATURES} signatures")
    return text, [_signature_line(line) for line in lines]


class NoteVerifier:
    """Verifies the notes one Ed25519 key signed, knowing only its name and public key."""

    def __init__(self, name: str, public_key: bytes) -> None:
        _check_name(name)
        if len(public_key) != 32:
            raise NoteError(f"an Ed25519 public key is 32 bytes, not {len(public_key)}")
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, public_key)
        self.verifier_key = verifier_key(name, public_key)
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            self._key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            raise NoteError("the public key is not an Ed25519 key") from None

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """The verifier a verifier key string names; refused unless it is an Ed25519 key whose
        key id matches its name and public key."""
        name, _, rest = vkey.partition("+")
        hex_id, _, encoded = rest.partition("+")
        if not _KEY_ID.fullmatch(hex_id):
            raise NoteError("a verifier key is <name>+<8 hex digits>+<base64 key>")
        _check_name(name)
        raw = _b64decode(encoded, "the verifier key's public key")
        if raw[:1] != bytes([ED25519]) or len(raw) != 33:
            raise NoteError("the verifier key is not an Ed25519 key (0x01 and 32 bytes)")
        verifier = cls(name, raw[1:])
        if verifier.key_id != bytes.fromhex(hex_id):
            raise NoteError(f"the verifier key's id {hex_id} is not that of its name and key")
        return verifier

    def verify(self, note: str) -> str:
        """The note's text, when a signature line by this key (its name and key id) verifies.

        Signatures by other keys are ignored; a signature by this key that fails, a note
        this key has not signed, or a malformed note raise :class:`NoteError`."""
        from cryptography.exceptions import InvalidSignature

        text, signatures = _split(note)
        data = text.encode("utf-8")
        verified = False
        for signature in signatures:
            if signature.name != self.name or signature.key_id != self.key_id:
                continue
            try:
                self._key.verify(signature.signature, data)
            except InvalidSignature:
                raise NoteError(f"the signature by {self.name} does not verify") from None
            verified = True
        if not verified:
            raise NoteError(f"the note has no signature by {self.name}+{self.key_id.hex()}")
        return text
