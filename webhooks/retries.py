"""The retry schedule: how long a failed message waits before its next attempt."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

_random = secrets.SystemRandom()
_MAX_RETRY_AFTER = 24 * 3600.0


def next_delay(
    schedule: Sequence[float], attempts_made: int, retry_after: float | None
) -> float | None:
    """Seconds until the next attempt after ``attempts_made`` failures; None when they are spent."""
    if attempts_made >= len(schedule):
        return None
    delay = schedule[attempts_made] * _random.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, min(retry_after, _MAX_RETRY_AFTER))
    return delay
