"""Idempotent, batched writes of validated events into ``raw`` (PostgreSQL)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cxa import events
from cxa.db import LazyAsyncPool


@dataclass(frozen=True)
class Landed:
    """A validated event with the Kafka position it was read from."""

    event: events.TicketEvent | events.AgentEvent
    partition: int
    offset: int


_TICKET_SQL = """
INSERT INTO raw.ticket_events
    (event_id, event_type, schema_version, ticket_id, occurred_at, payload,
     kafka_partition, kafka_offset)
VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s)
ON CONFLICT (event_id) DO NOTHING
"""
_AGENT_SQL = """
INSERT INTO raw.agent_events
    (event_id, event_type, schema_version, agent_id, occurred_at, payload,
     kafka_partition, kafka_offset)
VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s)
ON CONFLICT (event_id) DO NOTHING
"""


def _row(item: Landed) -> tuple[object, ...]:
    event = item.event
    return (
        event.event_id,
        event.event_type,
        event.schema_version,
        event.key,
        event.occurred_at,
        event.model_dump_json(),
        item.partition,
        item.offset,
    )


class Sink(Protocol):
    async def write(self, batch: Sequence[Landed]) -> None: ...


class EventSink:
    """Writes a batch in one transaction; a redelivered event (same ``event_id``) adds no row."""

    def __init__(self, database_url: str) -> None:
        self._database = LazyAsyncPool(database_url)

    async def close(self) -> None:
        await self._database.close()

    async def write(self, batch: Sequence[Landed]) -> None:
        tickets = [_row(item) for item in batch if isinstance(item.event, events.TicketEventBase)]
        agents = [_row(item) for item in batch if isinstance(item.event, events.AgentEventBase)]
        if not tickets and not agents:
            return
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            if tickets:
                await cursor.executemany(_TICKET_SQL, tickets)
            if agents:
                await cursor.executemany(_AGENT_SQL, agents)
