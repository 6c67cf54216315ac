"""Checkpoints and signed notes as C2SP writes them: the exact bytes, the key id and verifier key
computed by hand, a known answer from Go's reference implementation (golang.org/x/mod/sumdb/note),
and signatures checked with `cryptography` from the published verifier key alone."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from claimledger.transparency.notes import (
    Checkpoint,
    NoteError,
    NoteSigner,
    NoteVerifier,
    checkpoint_body,
    key_id,
    parse_checkpoint,
    verifier_key,
)

ROOT = hashlib.sha256(b"a root").digest()
SEED = bytes(range(32))

# golang.org/x/mod/sumdb/note's test key: its signer key is PRIVATE+KEY+<name>+<id>+<base64(0x01
# || seed)>, and Ed25519 signatures are deterministic, so the signed note is a known answer.
PETER_SEED = base64.b64decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")[1:]
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIGNATURE = (
    "\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIGNATURE = (
    "\u2014 EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def signer() -> NoteSigner:
    return NoteSigner.from_seed("example.org/log", SEED)


# --- checkpoints ---------------------------------------------------------------------------


def test_a_checkpoint_body_is_three_lines() -> None:
    body = checkpoint_body("example.org/log", 20852163, ROOT)
    assert body == f"example.org/log\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert parse_checkpoint(body) == Checkpoint("example.org/log", 20852163, ROOT)
    assert checkpoint_body("example.org/log", 0, ROOT).split("\n")[1] == "0"


def test_the_specifications_example_parses() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = parse_checkpoint(body)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == (
        "example.com/behind-the-sofa",
        20852163,
        (),
    )
    assert base64.b64encode(checkpoint.root).decode() == body.split("\n")[2]


def test_extension_lines_are_kept_apart() -> None:
    body = checkpoint_body("o", 5, ROOT) + "one extension\nanother\n"
    assert parse_checkpoint(body) == Checkpoint("o", 5, ROOT, ("one extension", "another"))


ROOT64 = base64.b64encode(ROOT).decode()
assert ROOT64.endswith("do=")


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(f"o\n020\n{ROOT64}\n", id="leading zero"),
        pytest.param(f"o\n00\n{ROOT64}\n", id="zeros"),
        pytest.param(f"o\n+5\n{ROOT64}\n", id="plus sign"),
        pytest.param(f"o\n-5\n{ROOT64}\n", id="minus sign"),
        pytest.param(f"o\n 5\n{ROOT64}\n", id="space"),
        pytest.param(f"o\n5_0\n{ROOT64}\n", id="underscore"),
        pytest.param(f"o\n\u0665\n{ROOT64}\n", id="non-ascii digit"),
        pytest.param(f"o\n{2**64}\n{ROOT64}\n", id="beyond 64 bits"),
        pytest.param(f"o\n5\n{ROOT64.rstrip('=')}\n", id="unpadded root"),
        pytest.param(f"o\n5\n{ROOT64.replace('do=', 'dp=')}\n", id="non-canonical root"),
        pytest.param(f"o\n5\n{ROOT64.replace('+', '-').replace('/', '_')}x\n", id="urlsafe root"),
        pytest.param(f"o\n5\n{base64.b64encode(ROOT[:31]).decode()}\n", id="31-byte root"),
        pytest.param(f"o\n5\n{base64.b64encode(ROOT + b'x').decode()}\n", id="33-byte root"),
        pytest.param(f"o\n5\n{ROOT64}", id="no final newline"),
        pytest.param("o\n5\n", id="no root"),
        pytest.param("o\n", id="origin alone"),
        pytest.param("", id="empty"),
        pytest.param(f"\n5\n{ROOT64}\n", id="empty origin"),
        pytest.param(f"o\n5\n{ROOT64}\n\n", id="empty extension line"),
        pytest.param(f"o\r\n5\n{ROOT64}\n", id="carriage return"),
    ],
)
def test_a_malformed_checkpoint_is_refused(body: str) -> None:
    with pytest.raises(NoteError):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [("", 1, ROOT), ("a\nb", 1, ROOT), ("o", -1, ROOT), ("o", 2**64, ROOT), ("o", 1, ROOT[:31])],
)
def test_a_checkpoint_cannot_be_written_from_bad_parts(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(NoteError):
        checkpoint_body(origin, size, root)


# --- keys ----------------------------------------------------------------------------------


def test_the_key_id_and_verifier_key_computed_by_hand() -> None:
    note_signer = signer()
    public = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes_raw()
    by_hand = hashlib.sha256(b"example.org/log" + b"\x0a" + b"\x01" + public).digest()[:4]
    assert note_signer.public_key == public
    assert note_signer.key_id == by_hand == key_id("example.org/log", public)
    typed_key = base64.b64encode(b"\x01" + public).decode()
    assert note_signer.verifier_key == f"example.org/log+{by_hand.hex()}+{typed_key}"
    assert verifier_key("example.org/log", public) == note_signer.verifier_key


def test_a_signer_from_a_key_is_the_signer_from_its_seed() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    assert NoteSigner("example.org/log", key).verifier_key == signer().verifier_key


def test_the_known_answer_of_gos_reference_implementation() -> None:
    peter = NoteSigner.from_seed("PeterNeumann", PETER_SEED)
    assert peter.key_id.hex() == "c74f20a3"
    assert peter.verifier_key == PETER_VKEY
    assert peter.sign(PETER_TEXT) == PETER_TEXT + "\n" + PETER_SIGNATURE
    assert NoteVerifier.parse(PETER_VKEY).verify(PETER_TEXT + "\n" + PETER_SIGNATURE) == PETER_TEXT


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\x01b"])
def test_a_key_name_with_a_space_or_a_plus_is_refused(name: str) -> None:
    with pytest.raises(NoteError):
        NoteSigner.from_seed(name, SEED)


def test_a_seed_is_32_bytes() -> None:
    with pytest.raises(NoteError):
        NoteSigner.from_seed("o", SEED[:31])


# --- signed notes --------------------------------------------------------------------------


def test_a_signed_checkpoint_verifies_with_cryptography_from_the_verifier_key_alone() -> None:
    body = checkpoint_body("example.org/log", 70, ROOT)
    note = signer().sign(body)
    published = signer().verifier_key

    name, hex_id, encoded_key = published.split("+", 2)
    typed_key = base64.b64decode(encoded_key, validate=True)
    assert typed_key[0] == 0x01
    public = Ed25519PublicKey.from_public_bytes(typed_key[1:])
    assert hashlib.sha256(name.encode() + b"\n" + typed_key).digest()[:4].hex() == hex_id

    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    assert text == body
    (line,) = signatures.splitlines()
    dash, signer_name, encoded = line.split(" ")
    assert (dash, signer_name) == ("\u2014", name)
    raw = base64.b64decode(encoded, validate=True)
    assert raw[:4].hex() == hex_id
    assert len(raw) == 4 + 64
    public.verify(raw[4:], text.encode())


def test_a_note_round_trips() -> None:
    text = checkpoint_body("example.org/log", 3, ROOT)
    assert signer().verifier().verify(signer().sign(text)) == text
    assert NoteVerifier.parse(signer().verifier_key).verify(signer().sign(text)) == text


def test_a_note_text_may_hold_empty_lines() -> None:
    text = "first\n\nthird\n\n"
    assert signer().verifier().verify(signer().sign(text)) == text


def test_signatures_by_other_keys_are_ignored() -> None:
    note = signer().sign(PETER_TEXT)
    peter = NoteSigner.from_seed("PeterNeumann", PETER_SEED).sign(PETER_TEXT)
    both = peter + ENOCH_SIGNATURE + note.rpartition("\n\n")[2]
    assert signer().verifier().verify(both) == PETER_TEXT
    assert NoteVerifier.parse(PETER_VKEY).verify(both) == PETER_TEXT


def test_a_note_without_this_keys_signature_is_refused() -> None:
    with pytest.raises(NoteError, match=r"no signature by example\.org/log"):
        signer().verifier().verify(PETER_TEXT + "\n" + PETER_SIGNATURE)


def _altered(note: str, at: int) -> str:
    """The note with one byte of its only signature (4 key id bytes, then the signature)
    flipped."""
    text, _, line = note.rpartition("\n\n")
    name, encoded = line.rstrip("\n").rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[at] ^= 0x01
    return f"{text}\n\n{name} {base64.b64encode(bytes(raw)).decode()}\n"


def test_an_altered_note_is_refused() -> None:
    text = checkpoint_body("example.org/log", 70, ROOT)
    note = signer().sign(text)
    verifier = signer().verifier()
    with pytest.raises(NoteError, match="does not verify"):
        verifier.verify(note.replace("\n70\n", "\n71\n"))
    with pytest.raises(NoteError, match="does not verify"):
        verifier.verify(_altered(note, 4 + 10))
    # Another key id or another name is another key, whose signature is not this one's.
    with pytest.raises(NoteError, match="no signature"):
        verifier.verify(_altered(note, 0))
    with pytest.raises(NoteError, match="no signature"):
        verifier.verify(note.replace("\u2014 example.org/log ", "\u2014 example.org/lag "))
    with pytest.raises(NoteError):
        NoteSigner.from_seed("example.org/log", bytes(32)).verifier().verify(note)


def test_a_failing_signature_by_this_key_refuses_the_note_even_beside_a_good_one() -> None:
    note = signer().sign(PETER_TEXT)
    bad = _altered(note, 30).rpartition("\n\n")[2]
    with pytest.raises(NoteError, match="does not verify"):
        signer().verifier().verify(note + bad)


NOTE = PETER_TEXT + "\n" + PETER_SIGNATURE


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(PETER_TEXT, id="no signatures"),
        pytest.param(PETER_TEXT + "\n", id="blank line only"),
        pytest.param(NOTE[:-1], id="no final newline"),
        pytest.param("\x01" + NOTE, id="control character"),
        pytest.param("\ud800" + NOTE, id="not UTF-8"),
        pytest.param(
            PETER_TEXT + "\n" + PETER_SIGNATURE.replace("PeterNeumann", "Bad Name"), id="name"
        ),
        pytest.param(NOTE + "Unexpected line.\n", id="line after the signatures"),
        pytest.param(PETER_TEXT + "\n- PeterNeumann " + PETER_SIGNATURE[15:], id="hyphen"),
        pytest.param(PETER_TEXT + "\n\u2014 PeterNeumann AAAA\n", id="short signature"),
        pytest.param(PETER_TEXT + "\n\u2014 PeterNeumann\n", id="no signature"),
        pytest.param(NOTE.replace("nAM=", "nAN="), id="non-canonical base64"),
        pytest.param(NOTE.replace("nAM=", "nAM"), id="unpadded"),
        pytest.param(PETER_TEXT + "\n" + PETER_SIGNATURE * 101, id="101 signatures"),
    ],
)
def test_a_malformed_note_is_refused(note: str) -> None:
    with pytest.raises(NoteError):
        NoteVerifier.parse(PETER_VKEY).verify(note)


def test_a_text_is_signed_only_when_it_ends_with_a_newline() -> None:
    with pytest.raises(NoteError):
        signer().sign("no newline")
    with pytest.raises(NoteError):
        signer().sign("a\x00b\n")


# --- verifier keys -------------------------------------------------------------------------


def test_every_mangling_of_a_verifier_key_is_refused() -> None:
    NoteVerifier.parse(PETER_VKEY)
    manglings = {
        PETER_VKEY[i:j]
        for i in range(len(PETER_VKEY) + 1)
        for j in range(i + 1, len(PETER_VKEY) + 1)
    }
    manglings |= {
        PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        for i in range(len(PETER_VKEY))
    }
    manglings.discard(PETER_VKEY)
    # The same key id with the key's bytes made longer, or of another signature type.
    manglings.add("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
    manglings.add("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
    for mangled in manglings:
        with pytest.raises(NoteError):
            NoteVerifier.parse(mangled)


def test_a_verifier_knows_its_key() -> None:
    verifier = NoteVerifier.parse(PETER_VKEY)
    assert (verifier.name, verifier.key_id.hex(), verifier.verifier_key) == (
        "PeterNeumann",
        "c74f20a3",
        PETER_VKEY,
    )
    assert verifier.public_key == NoteSigner.from_seed("PeterNeumann", PETER_SEED).public_key
