"""The instants a timeline writes read as the moment's links and the ``when`` filter do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from claimledger.api.web.fragments import _time, when
from claimledger.api.web.moment import rendered

KYIV = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    "instant",
    [
        datetime(2024, 3, 12, 10, 0, tzinfo=UTC),
        datetime(2024, 3, 12, 10, 0, 5, 123456, tzinfo=UTC),
        datetime(2024, 3, 12, 0, 30, 1, 7, tzinfo=KYIV),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_a_time_element_carries_the_instant_in_utc_both_ways(instant: datetime) -> None:
    assert _time(instant) == f'<time datetime="{rendered(instant)}">{when(instant)}</time>'
