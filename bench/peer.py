"""The projector's peer baseline: the eventsourcing library's ``ProjectionRunner`` on our ledger.

``python -m bench.peer`` with a job (JSON) on standard input: ``url`` (the run's database),
``head`` (the position to reach) and ``seconds`` (at most this long). The library's runner
subscribes to the ledger application (the same event table, mapper and recorder as ``serve``)
and applies every event to a minimal PostgreSQL view, one claim's statement count, with the
library's tracking table, in one transaction an event, as the library's projections do. It
prints one JSON result: the events it applied and how long they took.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import psycopg
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

from bench.jobs import answer_job
from claimledger.domain.ledger import Ledger
from claimledger.domain.statement import StatementRecorded
from claimledger.store.eventstore import event_store_env

# The projection's name: its environment prefix and its tables' prefix.
NAME = "benchpeer"


class StatementCounts(PostgresTrackingRecorder):
    """A minimal view: how many statements each claim has."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.counts_table = Identifier(self.datastore.schema, f"{NAME}_claim_statements")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {0}"
                " (claim_id uuid PRIMARY KEY, statements bigint NOT NULL)"
            ).format(self.counts_table)
        )

    def count_statement(self, claim_id: Any, tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                SQL(
                    "INSERT INTO {0} (claim_id, statements) VALUES (%s, 1)"
                    " ON CONFLICT (claim_id) DO UPDATE SET statements = {0}.statements + 1"
                ).format(self.counts_table),
                (claim_id,),
                prepare=True,
            )
            self._insert_tracking(cursor, tracking)


class CountStatements(Projection[StatementCounts]):
    name = NAME

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, domain_event: StatementRecorded, tracking: Tracking) -> None:
        self.view.count_statement(domain_event.claim_id, tracking)


def run(job: dict[str, Any]) -> dict[str, Any]:
    url = job["url"]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {NAME}")
    env = event_store_env(url, pool_size=2)
    env[f"{NAME.upper()}_CREATE_TABLE"] = "y"
    env[f"{NAME.upper()}_POSTGRES_SCHEMA"] = NAME
    head = int(job["head"])
    deadline = time.monotonic() + float(job["seconds"])
    with ProjectionRunner(
        application_class=Ledger,
        projection_class=CountStatements,
        view_class=StatementCounts,
        env=env,
    ) as runner:
        view = runner.view
        app_name = runner.app_name
        started = time.monotonic()
        done = 0
        while done < head and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                runner.wait(head, timeout=0.5)
            done = view.max_tracking_id(app_name) or 0
        seconds = time.monotonic() - started
    return {"events": done, "seconds": seconds, "events_per_s": done / seconds, "head": head}


if __name__ == "__main__":
    raise SystemExit(answer_job(run))
