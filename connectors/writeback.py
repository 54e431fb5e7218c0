"""Routing decisions written back to the helpdesk: ``tickets.routed`` -> the vendor's assignment call.

Each batch keeps the latest decision per ticket, applies it (retrying 429 with its Retry-After, 5xx
and timeouts, up to a limit), and commits its offsets only then. A refusal of one ticket (4xx, such
as an agent the helpdesk does not allow on it) is logged and skipped. A helpdesk that refuses our
credentials (401, 403) or stays unavailable past the retries stops the connector without committing
the batch (:class:`WritebackStopped`): nothing is lost, and once restarted it resumes there.

A decision is applied once, across batches and restarts: before the helpdesk is called, the batch's
decisions are claimed by their event ids in ``live.writeback_decisions`` (:class:`DecisionLedger`),
and one claimed before (delivered again after a crash or a rebalance before the offsets were
committed, or sent twice) is not applied again, where it would undo an agent's reassignment made in
between. A stop releases the claims of the decisions not yet applied, so the restart applies them.
A crash during a call leaves its claim: that decision is not tried again, and if the call did not
land, the router routes the ticket again once its assignment fails to arrive
(``CXA_WORKER_ROUTING_REROUTE_AFTER_SECONDS``). At most once, then, never twice.

A decision older than ``CXA_WRITEBACK_MAX_AGE_SECONDS`` is stale and not applied: a connector
started for the first time (or after a long outage) would otherwise replay the topic's retention
into the helpdesk, reassigning tickets that agents have long since taken or closed.
"""

import csv
import logging
import signal
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Protocol
from uuid import UUID

import httpx
import psycopg
from confluent_kafka import Consumer
from pydantic import ValidationError

from connectors.settings import WritebackSettings
from connectors.vendors.registry import Vendor
from cxa import db
from cxa.events import ROUTED_ADAPTER, TicketRouted
from cxa.topics import TICKETS_ROUTED

log = logging.getLogger(__name__)
_RETRIED = {429, 500, 502, 503, 504}
_CREDENTIALS = {401, 403}


class WritebackStopped(RuntimeError):
    """The helpdesk cannot take decisions now; the batch in flight was not committed."""


@dataclass
class Tally:
    applied: int = 0
    refused: int = 0
    given_up: int = 0
    skipped: int = 0
    stale: int = 0
    repeated: int = 0
    """Decisions delivered again after they were taken on: not applied twice."""


class Ledger(Protocol):
    """The decisions a connector has taken on, kept across batches and restarts."""

    def claim(self, vendor: str, decisions: Sequence[TicketRouted]) -> set[UUID]:
        """Claims the decisions; returns the ids of those no one had claimed before."""
        ...

    def release(self, ids: Collection[UUID]) -> None:
        """Forgets claims of decisions not applied after all, so that they are applied later."""
        ...

    def forget(self, vendor: str, before: datetime) -> None:
        """Drops the claims of decisions made before ``before`` (stale ones are never applied)."""
        ...


class DecisionLedger:
    """``live.writeback_decisions``, claimed by decision id (``ON CONFLICT DO NOTHING``), so that two
    connectors that both read a decision (a rebalance) apply it once between them. Each statement
    commits at once: a claim holds from before the helpdesk is called."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._connection: psycopg.Connection | None = None

    def _execute(self, query: str, params: Sequence[object]) -> list[tuple[UUID]]:
        try:
            if self._connection is None or self._connection.closed:
                self._connection = db.connect(self._url, autocommit=True)
            cursor = self._connection.execute(query, params)
            return cursor.fetchall() if cursor.description else []
        except psycopg.Error as exc:
            self.close()
            raise WritebackStopped(
                f"cannot keep the decisions taken on in PostgreSQL (DATABASE_URL): {exc}".strip()
            ) from exc

    def claim(self, vendor: str, decisions: Sequence[TicketRouted]) -> set[UUID]:
        if not decisions:
            return set()
        rows = self._execute(
            "INSERT INTO live.writeback_decisions (decision_id, vendor, ticket_id, agent_id, decided_at)"
            " SELECT d.id, %s, d.ticket, d.agent, d.at"
            " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::timestamptz[]) AS d(id, ticket, agent, at)"
            " ON CONFLICT (decision_id) DO NOTHING RETURNING decision_id",
            [
                vendor,
                [d.event_id for d in decisions],
                [d.ticket_id for d in decisions],
                [d.agent_id for d in decisions],
                [d.occurred_at for d in decisions],
            ],
        )
        return {row[0] for row in rows}

    def release(self, ids: Collection[UUID]) -> None:
        if ids:
            self._execute("DELETE FROM live.writeback_decisions WHERE decision_id = ANY(%s)", [list(ids)])

    def forget(self, vendor: str, before: datetime) -> None:
        self._execute(
            "DELETE FROM live.writeback_decisions WHERE vendor = %s AND decided_at < %s", [vendor, before]
        )

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def load_agents(path: Path | None) -> dict[str, str]:
    """``agent_id,vendor_user_id`` rows (a header row is optional)."""
    if path is None:
        return {}
    with path.open(newline="", encoding="utf-8") as rows:
        pairs = [row[:2] for row in csv.reader(rows) if len(row) >= 2 and row[0].strip()]
    return {agent.strip(): user.strip() for agent, user in pairs if agent.strip() != "agent_id"}


class Writeback:
    def __init__(
        self,
        vendor: Vendor,
        settings: WritebackSettings,
        client: httpx.Client | None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        ledger: Ledger | None = None,
    ) -> None:
        """Without ``ledger`` (a dry run), nothing is remembered across batches."""
        self.vendor, self.settings, self.client, self.sleep, self.now = vendor, settings, client, sleep, now
        self.ledger = ledger
        self.agents = load_agents(settings.agents_file)
        self.tally = Tally()

    def user_of(self, agent_id: str) -> str | None:
        if agent_id in self.agents:
            return self.agents[agent_id]
        prefix = f"{self.vendor.name}:"
        return agent_id.removeprefix(prefix) if agent_id.startswith(prefix) else None

    def apply(self, decision: TicketRouted) -> None:
        ticket = decision.ticket_id.removeprefix(f"{self.vendor.name}:")
        user = self.user_of(decision.agent_id)
        if user is None:
            log.warning(
                "no %s user for agent %s (ticket %s): add it to CXA_WRITEBACK_AGENTS_FILE",
                self.vendor.name,
                decision.agent_id,
                decision.ticket_id,
            )
            self.tally.skipped += 1
            return
        if self.vendor.numbered_users and not user.isdigit():
            # Freshdesk's webhooks name agents by email: its API wants the agent's number.
            log.warning(
                "%s assigns by numeric user id, and agent %s (ticket %s) has none: add "
                "'%s,<user id>' to CXA_WRITEBACK_AGENTS_FILE",
                self.vendor.name,
                decision.agent_id,
                decision.ticket_id,
                decision.agent_id,
            )
            self.tally.skipped += 1
            return
        call = self.vendor.assign(ticket, user)
        if self.client is None:
            log.info("dry run: %s %s %s", call.method, call.path, call.body)
            self.tally.applied += 1
            return
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                response = self.client.request(call.method, call.path, json=call.body)
            except httpx.TransportError as exc:
                wait, why = min(2.0**attempt, self.settings.retry_max_seconds), str(exc)
            else:
                if response.is_success:
                    self.tally.applied += 1
                    return
                if response.status_code in _CREDENTIALS:
                    raise WritebackStopped(
                        f"{self.vendor.name} answered {response.status_code} to our credentials: check "
                        "CXA_WRITEBACK_USER and CXA_WRITEBACK_TOKEN, and that the API user may assign tickets"
                    )
                if response.status_code not in _RETRIED:
                    log.warning(
                        "%s refused ticket %s -> %s: %s %s",
                        self.vendor.name,
                        ticket,
                        user,
                        response.status_code,
                        response.text[:300],
                    )
                    self.tally.refused += 1
                    return
                why = f"HTTP {response.status_code}"
                wait = _retry_after(response) or min(2.0**attempt, self.settings.retry_max_seconds)
            if attempt < self.settings.max_attempts:
                log.info("%s: %s; trying again in %.0f s", self.vendor.name, why, wait)
                self.sleep(min(wait, self.settings.retry_max_seconds))
        self.tally.given_up += 1
        raise WritebackStopped(
            f"gave up assigning {decision.ticket_id} to {user} after {self.settings.max_attempts} tries "
            f"({why}): is {self.vendor.name} up? Restarted, the connector resumes with this batch "
            "(decisions older than CXA_WRITEBACK_MAX_AGE_SECONDS are then skipped)"
        )

    def handle(self, values: list[bytes]) -> None:
        """One batch: the latest decision per ticket of this helpdesk, applied in order, unless it
        was taken on before (see the module's docstring)."""
        mine: list[TicketRouted] = []
        latest: dict[str, TicketRouted] = {}
        for value in values:
            try:
                decision = ROUTED_ADAPTER.validate_json(value)
            except ValidationError:
                log.warning("skipped an unreadable message on %s", TICKETS_ROUTED)
                continue
            if decision.ticket_id.startswith(f"{self.vendor.name}:"):
                mine.append(decision)
                latest.pop(decision.ticket_id, None)
                latest[decision.ticket_id] = decision
        max_age = self.settings.max_age_seconds
        oldest = self.now() - timedelta(seconds=max_age)

        def is_stale(decision: TicketRouted) -> bool:
            return bool(max_age) and decision.occurred_at < oldest

        stale = [d for d in latest.values() if is_stale(d)]
        if stale:
            log.info(
                "not applying %d decisions older than %d s (CXA_WRITEBACK_MAX_AGE_SECONDS)",
                len(stale),
                max_age,
            )
            self.tally.stale += len(stale)
        # Every current decision is claimed, the superseded ones too: delivered again on their own
        # (a batch cut elsewhere after a restart), they would undo the latest.
        current = [d for d in mine if not is_stale(d)]
        fresh = self.ledger.claim(self.vendor.name, current) if self.ledger else {d.event_id for d in current}
        due = [d for d in latest.values() if not is_stale(d)]
        todo = [d for d in due if d.event_id in fresh]
        if len(todo) < len(due):
            log.info(
                "not applying %d decisions again: taken on before, delivered again", len(due) - len(todo)
            )
            self.tally.repeated += len(due) - len(todo)
        for done, decision in enumerate(todo):
            try:
                self.apply(decision)
            except WritebackStopped:
                if self.ledger:  # the batch is not committed: the restart applies the rest
                    try:
                        self.ledger.release([d.event_id for d in todo[done:]])
                    except WritebackStopped as exc:  # they stay taken on: the router routes again
                        log.warning("%d decisions stay taken on, not applied: %s", len(todo) - done, exc)
                raise
        if self.ledger and max_age:
            self.ledger.forget(self.vendor.name, oldest)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def run(vendor: Vendor, settings: WritebackSettings, *, dry_run: bool, tally: Tally | None = None) -> Tally:
    """Consume ``tickets.routed`` until SIGINT or SIGTERM, counting into ``tally``; a dry run commits
    nothing and keeps no decisions (it needs no database). Raises :class:`WritebackStopped` (the batch
    in flight uncommitted)."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": settings.group_id or f"cxa-writeback-{vendor.name}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([TICKETS_ROUTED])
    client = None
    if not dry_run:
        if not settings.base_url or settings.token is None:
            raise ValueError("set CXA_WRITEBACK_BASE_URL and CXA_WRITEBACK_TOKEN (or use --dry-run)")
        client = httpx.Client(
            base_url=settings.base_url.rstrip("/") + "/",
            headers=vendor.credentials(settings.user, settings.token.get_secret_value()),
            timeout=settings.timeout_seconds,
        )
    ledger = None if dry_run else DecisionLedger(settings.database.url)
    writeback = Writeback(vendor, settings, client, ledger=ledger)
    writeback.tally = tally or writeback.tally
    try:
        while not stopping:
            messages = [m for m in consumer.consume(num_messages=500, timeout=1.0) if m.error() is None]
            if not messages:
                continue
            writeback.handle([value for m in messages if (value := m.value()) is not None])
            if not dry_run:
                consumer.commit(asynchronous=False)
    finally:
        consumer.close()
        if client is not None:
            client.close()
        if ledger is not None:
            ledger.close()
    return writeback.tally
