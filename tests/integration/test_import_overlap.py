"""An import builds a batch in a thread while the batch before it is saved; what each finds
recorded already is asked after the batches before it are saved, and a line that cannot be read
stops the import after them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import msgspec
import pytest

from claimledger.cli import import_kinds
from claimledger.cli.importer import Imported, import_file
from claimledger.cli.reading import BATCH, ImportFailed
from claimledger.runtime.bootstrap import Services
from claimledger.runtime.keys import SYSTEM_KEY_ID
from tests.helpers import event_count, import_lines

pytestmark = pytest.mark.anyio


def _file(path: Path, statements: int, *, bad_at: int | None = None) -> Path:
    lines = import_lines(statements)
    if bad_at is not None:
        lines[3 + bad_at]["stance"] = "maybe"
    path.write_bytes(b"".join(msgspec.json.encode(line) + b"\n" for line in lines))
    return path


async def test_the_next_batch_is_built_while_one_is_saved(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The save of the k-th batch is held until the (k+1)-th batch's building has begun, or a
    # deadline passes: were they one after the other, each save would wait out its deadline.
    built = threading.Condition()
    builds: list[int] = []
    waited: list[bool] = []
    build, record = import_kinds.build, services.writer.ledger.record_statements

    def noted_build(run: Any, batch: Any) -> Any:
        with built:
            builds.append(len(batch))
            built.notify_all()
        return build(run, batch)

    def held_record(*args: Any, **kwargs: Any) -> Any:
        # The batches: the three entities, then statements by 1,000, 1,000 and 997; the
        # statements' first two saves have a batch after them.
        saving = len(waited) + 2
        if saving < 4:
            with built:
                waited.append(built.wait_for(lambda: len(builds) > saving, timeout=5.0))
        return record(*args, **kwargs)

    monkeypatch.setattr(import_kinds, "build", noted_build)
    monkeypatch.setattr(services.writer.ledger, "record_statements", held_record)
    done = await import_file(
        services.writer,
        services.pool,
        _file(tmp_path / "three.ndjson", 3 * BATCH - 3),
        recorded_by=SYSTEM_KEY_ID,
    )
    assert builds == [3, BATCH, BATCH, BATCH - 3]
    assert (done.new, done.skipped, done.saved_through) == (3 * BATCH, 0, 3 * BATCH)
    assert waited == [True, True]


async def test_a_bad_line_stops_the_import_after_the_batches_before_it(
    services: Services, tmp_path: Path
) -> None:
    done = Imported()
    with pytest.raises(ImportFailed) as failed:
        await import_file(
            services.writer,
            services.pool,
            _file(tmp_path / "bad.ndjson", 2 * BATCH + 10, bad_at=BATCH + 5),
            recorded_by=SYSTEM_KEY_ID,
            done=done,
        )
    # Line 1,009 (after the three entities, statement 1,005) is in the second batch of
    # statements, read while the first was saved: that one is saved and counted, nothing after.
    assert failed.value.line == 3 + BATCH + 5 + 1
    assert (done.new, done.saved_through) == (3 + BATCH, 3 + BATCH)
    assert await event_count(str(services.settings.database_url)) == 3 + BATCH
