"""The bench's helper processes take one job as JSON on standard input and answer one JSON
object on standard output (``bench.processes.run_module`` is the other end)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import msgspec


def answer_job(run: Callable[[dict[str, Any]], dict[str, Any]]) -> int:
    job = msgspec.json.decode(sys.stdin.buffer.read())
    sys.stdout.buffer.write(msgspec.json.encode(run(job)) + b"\n")
    return 0
