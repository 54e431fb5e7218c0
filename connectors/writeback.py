"""Routing decisions written back to the helpdesk: ``tickets.routed`` -> the vendor's assignment call.

Each batch keeps the latest decision per ticket, applies it (retrying 429 with its Retry-After, 5xx
and timeouts, up to a limit), and commits its offsets only then: a crash re-applies at most the
batch in flight, which assigns the same agent again and changes nothing. A refusal of one ticket
(4xx, such as an agent the helpdesk does not allow on it) is logged and skipped. A helpdesk that
refuses our credentials (401, 403) or stays unavailable past the retries stops the connector
without committing the batch (:class:`WritebackStopped`): nothing is lost, and once restarted it
resumes there.
A decision older than ``CXA_WRITEBACK_MAX_AGE_SECONDS`` is stale and not applied: a connector
started for the first time (or after a long outage) would otherwise replay the topic's retention
into the helpdesk, reassigning tickets that agents have long since taken or closed.
"""

import csv
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

import httpx
from confluent_kafka import Consumer
from pydantic import ValidationError

from connectors.settings import WritebackSettings
from connectors.vendors.registry import Vendor
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
    ) -> None:
        self.vendor, self.settings, self.client, self.sleep, self.now = vendor, settings, client, sleep, now
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
        """One batch: the latest decision per ticket of this helpdesk, applied in order."""
        latest: dict[str, TicketRouted] = {}
        for value in values:
            try:
                decision = ROUTED_ADAPTER.validate_json(value)
            except ValidationError:
                log.warning("skipped an unreadable message on %s", TICKETS_ROUTED)
                continue
            if decision.ticket_id.startswith(f"{self.vendor.name}:"):
                latest.pop(decision.ticket_id, None)
                latest[decision.ticket_id] = decision
        max_age = self.settings.max_age_seconds
        oldest = self.now() - timedelta(seconds=max_age)
        stale = [d for d in latest.values() if max_age and d.occurred_at < oldest]
        if stale:
            log.info(
                "not applying %d decisions older than %d s (CXA_WRITEBACK_MAX_AGE_SECONDS)",
                len(stale),
                max_age,
            )
            self.tally.stale += len(stale)
        for decision in latest.values():
            if not (max_age and decision.occurred_at < oldest):
                self.apply(decision)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.replace(".", "", 1).isdigit() else None


def run(vendor: Vendor, settings: WritebackSettings, *, dry_run: bool, tally: Tally | None = None) -> Tally:
    """Consume ``tickets.routed`` until SIGINT or SIGTERM, counting into ``tally``; a dry run commits
    nothing. Raises :class:`WritebackStopped` (the batch in flight uncommitted)."""
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
    writeback = Writeback(vendor, settings, client)
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
    return writeback.tally
