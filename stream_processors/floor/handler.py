"""The floor's handler: what ``run_floor`` does with each batch of the floor topic.

It applies the batch's events to the floor state, routes once per interval and writes the board,
then flushes the state to the durable (changelog-backed) tables. The state lives in memory and
goes to the tables once per batch, so a burst of events costs one table write per changed key,
not one per event; on start, or when this worker takes the floor partition over, it is restored
from the tables. Plain async code, called directly by tests.
"""

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

from pydantic import TypeAdapter

from cxa import events
from stream_processors.floor import FloorState, Tracked, board
from stream_processors.floor.store import FloorStore
from stream_processors.packing import unpack
from stream_processors.retrying import retrying
from stream_processors.routing import Decision, Policy, RoutingConfig, route
from stream_processors.settings import WorkerSettings

log = logging.getLogger(__name__)

TICK = b"tick"
FLOOR_KEY = b"floor"
_ADAPTER: TypeAdapter[Any] = TypeAdapter(events.Event | events.CategoryPredicted)
_BATCH: TypeAdapter[list[Any]] = TypeAdapter(list[events.Event | events.CategoryPredicted])

PublishRouted = Callable[[Sequence[events.TicketRouted]], Awaitable[None]]
"""Sends routing decisions to ``tickets.routed``, returning once Kafka has every one of them."""


def routed_event(decision: Decision) -> events.TicketRouted:
    parts = decision.parts
    return events.TicketRouted(
        event_id=uuid.uuid4(),
        occurred_at=decision.decided_at,
        ticket_id=decision.ticket_id,
        agent_id=decision.agent_id,
        policy=decision.policy.value,
        score=decision.score,
        score_parts={
            "skill": parts.skill,
            "priority": parts.priority,
            "sla": parts.sla,
            "waiting": parts.waiting,
            "balance": parts.balance,
        },
        solver_ms=decision.solver_ms,
        reason=decision.reason[:500],
    )


def apply_floor_message(state: FloorState, value: bytes | None) -> datetime | None:
    """Apply one floor message (a batch of events); what cannot be applied is logged and skipped."""
    if value == TICK or value is None:
        return None
    newest = None
    for event in unpack(value, _BATCH, _ADAPTER):
        try:
            state.apply(event)
        except Exception:
            log.exception("could not apply %s to the floor", event.event_type)
            continue
        newest = max(newest or event.occurred_at, event.occurred_at)
    return cast(datetime | None, newest)


class FloorHandler:
    """The floor of one worker: its state, its rounds and what they publish and write."""

    def __init__(
        self,
        settings: WorkerSettings,
        *,
        tables: Sequence[MutableMapping[str, Any]],
        publish_routed: PublishRouted,
        store: FloorStore,
        generation: Callable[[], object] = lambda: None,
    ) -> None:
        self.settings = settings
        self.tables = list(tables)
        self.publish_routed = publish_routed
        self.store = store
        self.generation = generation  # the consumer group's generation: a new one may mean a takeover
        self.config = RoutingConfig(
            time_budget_ms=settings.routing_time_budget_ms, min_skill=settings.routing_min_skill
        )
        self.policy = Policy(settings.routing_policy)
        self._memory: list[Tracked] = []
        self.state = FloorState({}, {}, {}, settings.sla_clock == "business")
        self._generation: object = object()  # never equal to the first generation seen
        self.last_event_at: datetime | None = None
        self._last_round = 0.0
        self._pruned_day = ""

    async def handle(self, values: Sequence[bytes | None], *, wall: datetime | None = None) -> None:
        """One batch of the floor topic; returns once its events are in the tables."""
        if (generation := self.generation()) != self._generation:
            # A rebalance gave this worker the floor, or left it here: keep what is not yet in the
            # tables, then take the state they hold (recovered from the changelog on a takeover).
            self._generation = generation
            self._flush()
            self._memory = [Tracked(dict(table.items())) for table in self.tables]
            tickets, agents, counters = self._memory
            self.state = FloorState(tickets, agents, counters, self.settings.sla_clock == "business")
        for value in values:
            moment = apply_floor_message(self.state, value)
            self.last_event_at = max(filter(None, [self.last_event_at, moment]), default=None)
        if time.monotonic() - self._last_round >= self.settings.routing_interval_seconds:
            self._last_round = time.monotonic()
            await self.round(self.clock(wall or datetime.now(UTC)))
        self._flush()

    def clock(self, wall: datetime) -> datetime:
        """The wall clock, or the events' own clock when they run ahead of it (a simulation faster
        than real time), so waits and SLA timers use the clock the tickets live on; never further
        ahead than validation lets events be (whatever another worker accepted)."""
        ahead = self.settings.limits.max_ahead
        return max(wall, min(self.last_event_at or wall, wall + ahead))

    async def round(self, now: datetime) -> None:
        """Route and write the board. Each step's I/O is retried on its own (a decision published is
        written, even if the database fails after Kafka took it). A round that fails for good (a bug)
        is logged and skipped; the next one comes an interval later."""
        settings = self.settings
        if f"{now:%Y-%m-%d}" != self._pruned_day:
            self.state.forget_counters_before(now - timedelta(days=1))
            self._pruned_day = f"{now:%Y-%m-%d}"
        newest = self.last_event_at
        try:
            if newest is not None and now - newest <= timedelta(
                seconds=settings.routing_catch_up_lag_seconds
            ):
                # Decided once: a retry publishes the same decisions (same ids), never new ones.
                decided = await self.decide(now)
                await retrying(
                    partial(self.publish_routed, decided),
                    what="publishing routing decisions",
                    max_delay=settings.retry_max_seconds,
                )
                self.state.mark_routed([event.ticket_id for event in decided], now)
                await retrying(
                    partial(self.store.write_decisions, decided),
                    what="writing routing decisions",
                    max_delay=settings.retry_max_seconds,
                )
            at_risk_within = timedelta(minutes=settings.at_risk_minutes)
            await retrying(
                partial(self.store.write_board, board(self.state, now, at_risk_within), newest),
                what="writing the wall board",
                max_delay=settings.retry_max_seconds,
            )
        except Exception:
            log.exception("floor round skipped")

    async def decide(self, now: datetime) -> list[events.TicketRouted]:
        # The most urgent tickets first, at most a batch's worth: a long queue in an incident must not
        # make one round slower (the rest wait for the next round, an interval later).
        reroute_after = timedelta(seconds=self.settings.routing_reroute_after_seconds)
        waiting = sorted(self.state.waiting(now, reroute_after), key=lambda t: (t.sla_due_at, t.created_at))
        batch = waiting[: self.settings.routing_max_batch]
        # In a thread, so the sink and the other agents keep going while the solver works.
        decisions = await asyncio.get_running_loop().run_in_executor(
            None, route, batch, self.state.agent_states(now), now, self.policy, self.config
        )
        return [routed_event(decision) for decision in decisions]

    def _flush(self) -> None:
        for kept, table in zip(self._memory, self.tables, strict=False):
            kept.flush(table)
