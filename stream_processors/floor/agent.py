"""Faust agents of the floor: ``run_floor`` keeps the live state, routes and writes the board.

All validated events and predictions are funnelled into the one-partition ``<app id>-floor`` topic, so
exactly one worker (that partition's owner) holds the floor in changelog-backed tables and routes
with a global view of waiting tickets and support agents; when it dies, another worker takes the
partition over and restores the tables from their changelogs. Every worker sends a tick to the
topic each interval, so routing and the board go on while no events arrive.
"""

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

import faust
from faust.types import StreamT
from pydantic import TypeAdapter

from cxa import events
from stream_processors.floor import FloorState, Tracked, board
from stream_processors.floor.store import FloorStore
from stream_processors.packing import unpack
from stream_processors.retrying import retrying
from stream_processors.routing import Decision, Policy, RoutingConfig, route
from stream_processors.settings import WorkerSettings
from stream_processors.transport import acknowledged_batches

log = logging.getLogger(__name__)

TICK = b"tick"
FLOOR_KEY = b"floor"
_ADAPTER: TypeAdapter[Any] = TypeAdapter(events.Event | events.CategoryPredicted)
_BATCH: TypeAdapter[list[Any]] = TypeAdapter(list[events.Event | events.CategoryPredicted])


class OnePartitionTable(faust.Table):
    """A table of one partition, whose changelog writes name that partition. Faust's own choices
    need either the current event's topic (none in a batch) or the changelog topic's metadata, which
    a producer may not have yet right after the topic was created: the write then fails."""

    def partition_for_key(self, key: Any) -> int:
        return 0


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


def register(
    app: faust.App,
    settings: WorkerSettings,
    *,
    floor: faust.TopicT,
    routed: faust.TopicT,
    store: FloorStore,
) -> None:
    tables = [
        OnePartitionTable(app, name=f"floor-{name}", default=None, partitions=1, beacon=app.tables.beacon)
        for name in ("tickets", "agents", "counters")
    ]
    for table in tables:
        app.tables.add(table)
    config = RoutingConfig(
        time_budget_ms=settings.routing_time_budget_ms, min_skill=settings.routing_min_skill
    )
    policy = Policy(settings.routing_policy)
    reroute_after = timedelta(seconds=settings.routing_reroute_after_seconds)
    catch_up_lag = timedelta(seconds=settings.routing_catch_up_lag_seconds)
    at_risk_within = timedelta(minutes=settings.at_risk_minutes)
    max_ahead = settings.limits.max_ahead

    @app.timer(interval=settings.routing_interval_seconds)
    async def tick_floor() -> None:
        try:  # a timer that raises crashes the whole worker; a lost tick costs nothing
            await floor.send(key=FLOOR_KEY, value=TICK)
        except Exception as exc:
            log.warning("could not tick the floor (%s: %s)", type(exc).__name__, exc)

    async def decide(state: FloorState, now: datetime) -> list[events.TicketRouted]:
        # The most urgent tickets first, at most a batch's worth: a long queue in an incident must not
        # make one round slower (the rest wait for the next round, a second later).
        waiting = sorted(state.waiting(now, reroute_after), key=lambda t: (t.sla_due_at, t.created_at))
        batch = waiting[: settings.routing_max_batch]
        # In a thread, so the sink and the other agents keep going while the solver works.
        decisions = await asyncio.get_running_loop().run_in_executor(
            None, route, batch, state.agent_states(now), now, policy, config
        )
        return [routed_event(decision) for decision in decisions]

    async def publish(decided: list[events.TicketRouted]) -> None:
        sent = [await routed.send(key=e.ticket_id.encode(), value=events.serialize(e)) for e in decided]
        await asyncio.gather(*sent)

    @app.agent(floor, name="run_floor")
    async def run_floor(stream: StreamT[bytes]) -> None:
        # The state lives in memory and goes to the changelog-backed tables once per batch, so a
        # burst of events costs one table write per changed key, not one per event. On start (or
        # when this worker takes the partition over) it is restored from the tables.
        memory: list[Tracked] = []
        state = FloorState({}, {}, {})
        generation = None
        last_event_at: datetime | None = None
        last_round = 0.0
        pruned_day = ""
        async for batch in acknowledged_batches(stream, 1000, within=settings.routing_interval_seconds / 4):
            if app.consumer_generation_id != generation:
                # A rebalance gave this worker the floor, or left it here: keep what is not yet in the
                # tables, then take the state they hold (recovered from the changelog on a takeover).
                generation = app.consumer_generation_id
                for kept, table in zip(memory, tables, strict=False):
                    kept.flush(table)
                memory = [Tracked(dict(table.items())) for table in tables]
                state = FloorState(*memory)
            for message in batch:
                moment = apply_floor_message(state, message.value)
                last_event_at = max(filter(None, [last_event_at, moment]), default=None)
            if time.monotonic() - last_round >= settings.routing_interval_seconds:
                last_round = time.monotonic()
                # The wall clock, or the events' own clock when they run ahead of it (a simulation
                # faster than real time), so waits and SLA timers use the clock the tickets live on;
                # never further ahead than validation lets events be (whatever another worker accepted).
                wall = datetime.now(UTC)
                now = max(wall, min(last_event_at or wall, wall + max_ahead))
                if f"{now:%Y-%m-%d}" != pruned_day:
                    state.forget_counters_before(now - timedelta(days=1))
                    pruned_day = f"{now:%Y-%m-%d}"
                await floor_round(state, now, last_event_at)
            # The batch is acknowledged once its events are in the tables.
            for kept, table in zip(memory, tables, strict=True):
                kept.flush(table)

    async def floor_round(state: FloorState, now: datetime, newest: datetime | None) -> None:
        """Route and write the board. Each step's I/O is retried on its own (a decision published is
        written, even if the database fails after Kafka took it). A round that fails for good (a bug)
        is logged and skipped; the next one comes a second later."""
        try:
            if newest is not None and now - newest <= catch_up_lag:
                # Decided once: a retry publishes the same decisions (same ids), never new ones.
                decided = await decide(state, now)
                await retrying(
                    partial(publish, decided),
                    what="publishing routing decisions",
                    max_delay=settings.retry_max_seconds,
                )
                state.mark_routed([event.ticket_id for event in decided], now)
                await retrying(
                    partial(store.write_decisions, decided),
                    what="writing routing decisions",
                    max_delay=settings.retry_max_seconds,
                )
            await retrying(
                partial(store.write_board, board(state, now, at_risk_within), newest),
                what="writing the wall board",
                max_delay=settings.retry_max_seconds,
            )
        except Exception:
            log.exception("floor round skipped")


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
