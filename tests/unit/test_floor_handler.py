"""The floor's handler, called as ``run_floor`` calls it: plain dicts for its tables, recorded sends
and writes, a fixed clock."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cxa import events
from stream_processors.floor import Board
from stream_processors.floor.handler import TICK, FloorHandler
from stream_processors.packing import pack
from stream_processors.settings import WorkerSettings

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SETTINGS = WorkerSettings(routing_time_budget_ms=30_000, retry_max_seconds=0.05)


class Recorder:
    def __init__(self, publish_failures: int = 0) -> None:
        self.published: list[events.TicketRouted] = []
        self.written: list[events.TicketRouted] = []
        self.boards: list[Board] = []
        self.publish_failures = publish_failures
        self.attempts: list[list[events.TicketRouted]] = []

    async def publish_routed(self, decided: Sequence[events.TicketRouted]) -> None:
        self.attempts.append(list(decided))
        if self.publish_failures:
            self.publish_failures -= 1
            raise ConnectionError("broker away")
        self.published.extend(decided)

    async def write_decisions(self, decisions: Sequence[events.TicketRouted]) -> None:
        self.written.extend(decisions)

    async def write_board(self, board: Board, last_event_at: datetime | None) -> None:
        self.boards.append(board)


def _handler(recorder: Recorder, tables: list[dict[str, Any]], generation: int = 1) -> FloorHandler:
    return FloorHandler(
        SETTINGS,
        tables=tables,
        publish_routed=recorder.publish_routed,
        store=recorder,
        generation=lambda: generation,
    )


def _floor_events(at: datetime) -> bytes:
    return pack(
        [
            events.serialize(e)
            for e in (
                events.AgentSkillsChanged(
                    agent_id="A1", occurred_at=at, skills={"refund": 0.9}, languages=["en"]
                ),
                events.AgentCapacityChanged(agent_id="A1", occurred_at=at, capacity=2),
                events.AgentStatusChanged(agent_id="A1", occurred_at=at, status="online"),
                events.TicketCreated(
                    ticket_id="T1",
                    occurred_at=at,
                    customer_id="C1",
                    channel="email",
                    priority="high",
                    subject="s",
                    body="b",
                ),
            )
        ]
    )


def test_a_batch_is_applied_routed_written_and_kept_in_the_tables() -> None:
    recorder = Recorder()
    tables: list[dict[str, Any]] = [{}, {}, {}]
    asyncio.run(_handler(recorder, tables).handle([_floor_events(T0), TICK], wall=T0 + timedelta(seconds=1)))

    [decision] = recorder.published
    assert (decision.ticket_id, decision.agent_id) == ("T1", "A1")
    assert recorder.written == recorder.published
    [board] = recorder.boards
    assert board.as_of == T0 + timedelta(seconds=1)
    assert [a.agent_id for a in board.agents] == ["A1"]
    tickets, agents, _ = tables
    assert tickets["T1"]["routed_at"] == (T0 + timedelta(seconds=1)).isoformat()
    assert agents["A1"]["capacity"] == 2


def test_a_worker_taking_the_floor_over_starts_from_the_tables() -> None:
    tables: list[dict[str, Any]] = [{}, {}, {}]
    asyncio.run(_handler(Recorder(), tables).handle([_floor_events(T0)], wall=T0))
    successor = Recorder()
    # Later, on another worker: only a tick arrives, and the state comes from the tables.
    asyncio.run(_handler(successor, tables, generation=2).handle([TICK], wall=T0 + timedelta(seconds=2)))
    [board] = successor.boards
    assert [(a.agent_id, a.capacity) for a in board.agents] == [("A1", 2)]


def test_decisions_whose_publishing_fails_for_a_while_go_out_once_unchanged() -> None:
    recorder = Recorder(publish_failures=2)
    asyncio.run(_handler(recorder, [{}, {}, {}]).handle([_floor_events(T0)], wall=T0))
    first, *retries = recorder.attempts
    assert len(retries) == 2
    assert all(attempt == first for attempt in retries)  # the same ids: never decided again
    assert recorder.published == recorder.written == first


def test_events_far_behind_the_clock_are_history_the_router_leaves_alone() -> None:
    recorder = Recorder()
    lag = timedelta(seconds=SETTINGS.routing_catch_up_lag_seconds)
    asyncio.run(
        _handler(recorder, [{}, {}, {}]).handle([_floor_events(T0)], wall=T0 + lag + timedelta(minutes=1))
    )
    assert recorder.attempts == []
    [board] = recorder.boards  # the board is written all the same
    assert board.waiting == 1
