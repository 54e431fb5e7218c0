"""The floor's real writer, then the dashboard's real reader, on one PostgreSQL: the wall board shows
what the floor decided, value by value (the browser tests read hand-written rows instead)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from psycopg_pool import ConnectionPool

from cxa import db, events
from dash_app import figures
from dash_app.warehouse import Warehouse
from stream_processors.floor import FloorState, board
from stream_processors.floor.handler import routed_event
from stream_processors.floor.store import PostgresFloorStore
from stream_processors.routing import Policy, RoutingConfig, route

pytestmark = pytest.mark.integration

BUDGET = RoutingConfig(time_budget_ms=30_000)  # a loaded machine must not make the solver give up


def _floor(now: datetime) -> FloorState:
    state = FloorState({}, {}, {})
    for agent_id, status in (("A1", "online"), ("A2", "online"), ("A3", "away")):
        state.apply(
            events.AgentSkillsChanged(
                agent_id=agent_id, occurred_at=now, skills={"refund": 0.9}, languages=["en"]
            )
        )
        state.apply(events.AgentCapacityChanged(agent_id=agent_id, occurred_at=now, capacity=2))
        state.apply(events.AgentStatusChanged(agent_id=agent_id, occurred_at=now, status=status))
    for number, (minutes_ago, priority) in enumerate(
        [(25, "urgent"), (20, "urgent"), (5, "normal"), (1, "low")]
    ):
        state.apply(
            events.TicketCreated(
                ticket_id=f"T{number}",
                occurred_at=now - timedelta(minutes=minutes_ago),
                customer_id="C1",
                channel="chat",
                priority=priority,
                subject="s",
                body="b",
            )
        )
    state.apply(
        events.TicketStatusChanged(ticket_id="T1", occurred_at=now - timedelta(minutes=19), status="pending")
    )
    state.apply(events.CsatSubmitted(ticket_id="T9", occurred_at=now, rating=5))
    return state


def test_the_wall_board_reads_what_the_floor_wrote(database_url: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    state = _floor(now)
    wall = board(state, now, at_risk_within=timedelta(minutes=30))
    decided = [
        routed_event(d)
        for d in route(
            state.waiting(now, timedelta(0)), state.agent_states(now), now, Policy.OPTIMIZER, BUDGET
        )
    ]
    store = PostgresFloorStore(database_url)

    async def write() -> None:
        await store.write_decisions(decided)
        await store.write_board(wall, last_event_at=now)

    asyncio.run(write())

    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        snapshot = Warehouse(pool).floor()
    numbers = figures.floor_numbers(
        snapshot.summary,
        snapshot.categorizer,
        snapshot.hour_forecast,
        snapshot.read_at,
        timedelta(seconds=10),
    )
    assert not numbers.is_stale
    # T1 is pending (not waiting, its clock stopped); the three open tickets wait.
    assert (wall.waiting, numbers.waiting) == (3, "3")
    assert numbers.oldest_wait == "25m"
    assert numbers.at_risk == "1"  # T0: urgent, 25 of its 30 minutes gone
    assert list(snapshot.at_risk["ticket_id"]) == ["T0"]
    assert snapshot.at_risk["minutes_left"].iloc[0] == pytest.approx(5.0)
    assert numbers.agents_online == "2 / 3"
    assert numbers.csat_today == "100%"
    by_priority = dict(zip(snapshot.queues["priority"], snapshot.queues["waiting"], strict=True))
    assert by_priority == {"urgent": 1, "normal": 1, "low": 1}
    assert sorted(snapshot.routing["ticket_id"]) == sorted(e.ticket_id for e in decided)
    assert len(decided) == 3  # two online agents with room for two each
