"""The ids an import gives lines that carry none: derived from the line alone, the same in every
version, so that importing a file again finds the records it made the first time."""

from __future__ import annotations

from uuid import uuid5

import msgspec

from claimledger.cli import lines as fmt

LINE = (
    b'{"type":"statement","claim_id":"1c4cb5a1-ebbf-4f99-937a-c87f1f6e4e0b",'
    b'"source_id":"62b8241e-b8ed-4fba-a68a-a6c57b8407f6","stance":"asserts",'
    b'"published_at":"2022-02-24T01:25:08Z","quote":"\xd0\xa2\xd1\x91\xd1\x82\xd0\xba\xd0\xb8\xd0\xbd\xd0\xbe",'
    b'"evidence":[{"kind":"satellite","lat":32.5936,"lon":38.2007}],'
    b'"recorded_at":"2024-03-12T10:00:00Z"}'
)


def test_a_derived_id_is_the_name_based_uuid_of_the_sorted_line() -> None:
    line = fmt.decoder.decode(LINE)
    content = msgspec.structs.replace(line, recorded_at=None, recorded_by=None)
    text = msgspec.json.encode(content, order="sorted").decode()
    assert '"quote":"Тёткино"' in text
    assert fmt.derived_id(line) == uuid5(fmt.IMPORTED, text)
    assert fmt.derived_id(line).version == 5


def test_when_and_by_whom_a_line_was_recorded_leave_its_id_alone() -> None:
    line = fmt.decoder.decode(LINE)
    other = msgspec.structs.replace(line, recorded_at=None)
    assert fmt.derived_id(line) == fmt.derived_id(other)
    changed = msgspec.structs.replace(line, quote="Тьоткіно")
    assert fmt.derived_id(changed) != fmt.derived_id(line)


def test_identical_lines_are_records_of_their_own() -> None:
    line = fmt.decoder.decode(LINE)
    occurrences = fmt.Occurrences()
    first, second = (fmt.record_id(line, occurrences) for _ in range(2))
    assert first == fmt.derived_id(line)
    assert second == uuid5(first, "1")
