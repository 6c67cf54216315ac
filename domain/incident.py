"""An incident: a real-world happening that claims are made about."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from claimledger.domain.errors import InvalidInput
from claimledger.domain.values import Place, TimePrecision, check_instant


@dataclass(frozen=True, slots=True)
class IncidentDraft:
    """Everything an editor says about an incident; opening and revising both take one."""

    title: str
    summary: str | None = None
    place: Place | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    occurred_precision: TimePrecision | None = None
    tags: tuple[str, ...] = ()

    def check(self) -> None:
        for name in ("occurred_from", "occurred_to"):
            value = getattr(self, name)
            if value is not None:
                check_instant(value, field=name)
        if (
            self.occurred_from is not None
            and self.occurred_to is not None
            and self.occurred_to < self.occurred_from
        ):
            raise InvalidInput("occurred_to is before occurred_from", field="occurred_to")


class Incident(Aggregate):
    if TYPE_CHECKING:
        draft: IncidentDraft

    @classmethod
    def open(
        cls,
        draft: IncidentDraft,
        *,
        recorded_by: UUID,
        incident_id: UUID | None = None,
        recorded_at: datetime | None = None,
    ) -> Incident:
        draft.check()
        return cls._create(
            IncidentOpened,
            id=incident_id,
            timestamp=recorded_at,
            **_fields(draft),
            recorded_by=recorded_by,
        )

    def revise(
        self, draft: IncidentDraft, *, recorded_by: UUID, recorded_at: datetime | None = None
    ) -> None:
        draft.check()
        self.trigger_event(
            IncidentRevised, **_fields(draft), recorded_by=recorded_by, timestamp=recorded_at
        )


def _fields(draft: IncidentDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in IncidentDraft.__dataclass_fields__}


@dataclass(frozen=True)
class _Description:
    """The fields both incident events carry."""

    title: str
    summary: str | None
    place: Place | None
    occurred_from: datetime | None
    occurred_to: datetime | None
    occurred_precision: TimePrecision | None
    tags: tuple[str, ...]
    recorded_by: UUID

    def as_draft(self) -> IncidentDraft:
        return IncidentDraft(**{n: getattr(self, n) for n in IncidentDraft.__dataclass_fields__})


class IncidentOpened(Aggregate.Created, _Description):
    def apply(self, aggregate: Any) -> None:
        aggregate.draft = self.as_draft()


class IncidentRevised(Aggregate.Event, _Description):
    def apply(self, aggregate: Any) -> None:
        aggregate.draft = self.as_draft()
