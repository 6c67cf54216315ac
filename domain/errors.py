"""One root for every error the domain raises; the API maps each subclass to one problem type."""

from __future__ import annotations

from uuid import UUID


class DomainError(Exception):
    """Something the ledger refuses to do. ``field`` names the input at fault, when there is one."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """An id in the path names nothing in the ledger."""

    def __init__(self, kind: str, entity_id: UUID, *, field: str | None = None) -> None:
        super().__init__(f"{kind} {entity_id} does not exist", field=field)
        self.kind = kind
        self.entity_id = entity_id


class UnknownReference(NotFound):
    """An id inside a request body names nothing in the ledger."""


class InvalidInput(DomainError):
    """A value is well-formed but not acceptable (a future publication time, an inverted range)."""


class AlreadyWithdrawn(DomainError):
    """The statement was withdrawn before; a withdrawal happens once."""


class IdempotencyConflict(DomainError):
    """An idempotency key was reused for a different request."""


class Conflict(DomainError):
    """A concurrent change won; the request may be retried."""
