"""Writes the wall board's live tables and the routing decisions (PostgreSQL, async)."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from cxa import events
from cxa.db import LazyAsyncPool
from stream_processors.floor import Board

FEED_LENGTH = 200


class FloorStore(Protocol):
    async def write_board(self, board: Board, last_event_at: datetime | None) -> None: ...

    async def write_decisions(self, decisions: Sequence[events.TicketRouted]) -> None: ...


class PostgresFloorStore:
    """Each board replaces the live tables in one transaction, so readers never see half of one."""

    def __init__(self, database_url: str) -> None:
        self._database = LazyAsyncPool(database_url)

    async def write_board(self, board: Board, last_event_at: datetime | None) -> None:
        # Stamped with the wall clock, whatever clock the floor runs on (a simulation runs ahead of
        # it), so that readers can tell a board that stopped coming from a live one.
        updated_at = datetime.now(UTC)
        online = sum(a.status == "online" for a in board.agents)
        away = sum(a.status == "away" for a in board.agents)
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.execute(
                """
                INSERT INTO live.floor_summary (floor_id, updated_at, last_event_at, waiting, backlog,
                    oldest_waiting_at, arrivals_last_minute, arrivals_last_hour, at_risk, agents_online,
                    agents_away, agents_offline, csat_positive_today, csat_total_today)
                VALUES (1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (floor_id) DO UPDATE SET updated_at = EXCLUDED.updated_at,
                    last_event_at = EXCLUDED.last_event_at, waiting = EXCLUDED.waiting,
                    backlog = EXCLUDED.backlog, oldest_waiting_at = EXCLUDED.oldest_waiting_at,
                    arrivals_last_minute = EXCLUDED.arrivals_last_minute,
                    arrivals_last_hour = EXCLUDED.arrivals_last_hour, at_risk = EXCLUDED.at_risk,
                    agents_online = EXCLUDED.agents_online, agents_away = EXCLUDED.agents_away,
                    agents_offline = EXCLUDED.agents_offline,
                    csat_positive_today = EXCLUDED.csat_positive_today,
                    csat_total_today = EXCLUDED.csat_total_today
                """,
                (
                    updated_at,
                    last_event_at,
                    board.waiting,
                    board.backlog,
                    board.oldest_waiting_at,
                    board.arrivals_last_minute,
                    board.arrivals_last_hour,
                    len(board.at_risk),
                    online,
                    away,
                    len(board.agents) - online - away,
                    board.csat_positive_today,
                    board.csat_total_today,
                ),
            )
            await cursor.execute("DELETE FROM live.queue_depth")
            await cursor.executemany(
                "INSERT INTO live.queue_depth VALUES (%s, %s, %s, %s, %s)",
                [(q.category, q.priority, q.waiting, q.oldest_created_at, updated_at) for q in board.queues],
            )
            await cursor.execute("DELETE FROM live.sla_at_risk")
            await cursor.executemany(
                "INSERT INTO live.sla_at_risk VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        r.ticket_id,
                        r.priority,
                        r.category,
                        r.channel,
                        r.agent_id,
                        r.created_at,
                        r.due_at,
                        r.minutes_left,
                        updated_at,
                    )
                    for r in board.at_risk[:500]
                ],
            )
            await cursor.execute("DELETE FROM live.agent_load")
            await cursor.executemany(
                "INSERT INTO live.agent_load VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (a.agent_id, a.status, a.load, a.capacity, a.handled_today, updated_at)
                    for a in board.agents
                ],
            )

    async def write_decisions(self, decisions: Sequence[events.TicketRouted]) -> None:
        if not decisions:
            return
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            await cursor.executemany(
                "INSERT INTO raw.routing_decisions (event_id, ticket_id, agent_id, policy, score,"
                " score_parts, solver_ms, reason, decided_at) VALUES (%s, %s, %s, %s, %s, %s::jsonb,"
                " %s, %s, %s) ON CONFLICT (event_id) DO NOTHING",
                [
                    (
                        d.event_id,
                        d.ticket_id,
                        d.agent_id,
                        d.policy,
                        d.score,
                        json.dumps(d.score_parts),
                        d.solver_ms,
                        d.reason,
                        d.occurred_at,
                    )
                    for d in decisions
                ],
            )
            await cursor.executemany(
                "INSERT INTO live.routing_feed VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (event_id) DO NOTHING",
                [
                    (d.event_id, d.occurred_at, d.ticket_id, d.agent_id, d.policy, d.score, d.reason)
                    for d in decisions
                ],
            )
            await cursor.execute(
                "DELETE FROM live.routing_feed WHERE event_id NOT IN"
                " (SELECT event_id FROM live.routing_feed ORDER BY decided_at DESC LIMIT %s)",
                (FEED_LENGTH,),
            )
