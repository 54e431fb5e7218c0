"""Faust agents of the floor: ``run_floor`` keeps the live state, routes and writes the board.

All validated events and predictions are funnelled into the one-partition ``cxa.floor`` topic, so
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
from typing import Any, cast

import faust
from faust.types import StreamT
from pydantic import TypeAdapter

from cxa import events
from stream_processors.floor import FloorState, board
from stream_processors.floor_store import FloorStore
from stream_processors.routing import Decision, Policy, RoutingConfig, route
from stream_processors.settings import WorkerSettings

log = logging.getLogger(__name__)

TICK = b"tick"
FLOOR_KEY = b"floor"
_ADAPTER: TypeAdapter[Any] = TypeAdapter(events.Event | events.CategoryPredicted)


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
    predictions: faust.TopicT,
    store: FloorStore,
) -> None:
    # One partition, so the partitioner's choice is always right, and writes need not wait for the
    # changelog topic's metadata (Faust checks it against the current event's topic otherwise).
    tables = [
        app.Table(f"floor-{name}", default=None, partitions=1, use_partitioner=True)
        for name in ("tickets", "agents", "counters")
    ]
    config = RoutingConfig(time_budget_ms=settings.routing_time_budget_ms)
    policy = Policy(settings.routing_policy)
    reroute_after = timedelta(seconds=settings.routing_reroute_after_seconds)
    catch_up_lag = timedelta(seconds=settings.routing_catch_up_lag_seconds)
    at_risk_within = timedelta(minutes=settings.at_risk_minutes)

    @app.timer(interval=settings.routing_interval_seconds)
    async def tick_floor() -> None:
        await floor.send(key=FLOOR_KEY, value=TICK)

    @app.agent(predictions, name="forward_predictions")
    async def forward_predictions(stream: StreamT[bytes]) -> None:
        async for prediction in stream:
            await floor.send(key=FLOOR_KEY, value=prediction)

    async def decide_and_publish(state: FloorState, now: datetime) -> None:
        decisions = route(state.waiting(now, reroute_after), state.agent_states(now), now, policy, config)
        routed_events = [routed_event(decision) for decision in decisions]
        for event in routed_events:
            await routed.send(key=event.ticket_id.encode(), value=events.serialize(event))
        state.mark_routed([event.ticket_id for event in routed_events], now)
        await store.write_decisions(routed_events)

    @app.agent(floor, name="run_floor")
    async def run_floor(stream: StreamT[bytes]) -> None:
        # Per event, not in batches: table writes must happen inside the event's own iteration.
        state = FloorState(*tables)
        last_event_at: datetime | None = None
        last_round = 0.0
        pruned_day = ""
        async for value in stream:
            moment = _apply(state, value)
            last_event_at = max(filter(None, [last_event_at, moment]), default=None)
            if time.monotonic() - last_round < settings.routing_interval_seconds:
                continue
            last_round = time.monotonic()
            now = datetime.now(UTC)
            if f"{now:%Y-%m-%d}" != pruned_day:
                state.forget_counters_before(now - timedelta(days=1))
                pruned_day = f"{now:%Y-%m-%d}"
            delay = 0.5
            while True:  # the message is acknowledged when this body returns: retry I/O, lose nothing
                try:
                    if last_event_at is not None and now - last_event_at <= catch_up_lag:
                        await decide_and_publish(state, now)
                    await store.write_board(board(state, now, at_risk_within), last_event_at)
                    break
                except Exception:
                    log.exception("floor update failed; retrying in %.1f s", delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, settings.retry_max_seconds)


def _apply(state: FloorState, value: bytes | None) -> datetime | None:
    """Apply one floor message; one that cannot be applied is logged and skipped."""
    if value == TICK or value is None:
        return None
    try:
        parsed = _ADAPTER.validate_json(value)
        state.apply(parsed)
    except Exception:  # already validated upstream: this is a bug, not bad input
        log.exception("could not apply a floor message")
        return None
    return cast(datetime, parsed.occurred_at)
