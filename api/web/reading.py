"""What every page does before it reads: the key check, the control's redirect, the moment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect, Template

from claimledger.api.web.moment import (
    cache_control,
    canonical,
    control,
    moment_of,
    moment_params,
    url_with,
)
from claimledger.projections.queries.moment import Moment
from claimledger.runtime.bootstrap import ReadSource, Services
from claimledger.store.db import Db


@dataclass(frozen=True, slots=True)
class PageRead:
    """One page's read: where to read from and the moment the page shows."""

    request: Request[Any, Any, Any]
    source: ReadSource
    moment: Moment

    @property
    def db(self) -> Db:
        return self.source.pool

    def render(self, template: str, *, live: bool = True, **context: Any) -> Template:
        """The page, cached as long as what it shows cannot change; ``live``: a page at "now"
        that follows the stream."""
        query = {name: self.request.query_params.getall(name) for name in self.request.query_params}
        shown = control(self.request.url.path, query, self.moment)
        incident_id = context.get("incident_id")
        about = [] if incident_id is None else [("incident_id", str(incident_id))]
        shown["moments_url"] = url_with("/moments", [*about, *moment_params(self.moment).items()])
        return Template(
            template_name=template,
            context={
                **context,
                "control": shown,
                "live": self.moment.is_now and live,
            },
            headers={"Cache-Control": cache_control(self.moment, self.source.watcher)},
        )


def start(
    request: Request[Any, Any, Any],
    services: Services,
    known_at: str | None,
    published_before: str | None,
    at: str | None,
    axis: str | None,
) -> PageRead | Redirect:
    """The page's read, or the redirect to the moment its control's form chose."""
    if not services.settings.public_read:
        raise NotAuthorizedException("reads need an API key")
    if at is not None:
        query = request.query_params.multi_items()
        return Redirect(canonical(request.url.path, query, at, axis), status_code=303)
    if axis is not None:
        # The axis alone (the form's switch without a moment) keeps the moment shown.
        moment = moment_of(known_at, published_before)
        shown = moment.known_at or moment.published_before
        if shown is not None:
            query = request.query_params.multi_items()
            return Redirect(
                canonical(request.url.path, query, shown.isoformat(), axis), status_code=303
            )
        kept = [(n, v) for n, v in request.query_params.multi_items() if n != "axis"]
        return Redirect(url_with(request.url.path, kept), status_code=303)
    return PageRead(request, services.reads, moment_of(known_at, published_before))
