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


def _insert(table: str, key: str) -> str:
    """One multi-row INSERT per batch: each column arrives as an array and unnest makes the rows."""
    return f"""
INSERT INTO raw.{table}
    (event_id, event_type, schema_version, {key}, occurred_at, payload, kafka_partition, kafka_offset)
SELECT * FROM unnest(
    %s::uuid[], %s::text[], %s::smallint[], %s::text[], %s::timestamptz[], %s::text[]::jsonb[],
    %s::integer[], %s::bigint[]
)
ON CONFLICT (event_id) DO NOTHING
"""


_TICKET_SQL = _insert("ticket_events", "ticket_id")
_AGENT_SQL = _insert("agent_events", "agent_id")


def _columns(items: Sequence[Landed]) -> list[list[object]]:
    """The batch column by column, in the order of the INSERT's arrays."""
    columns: list[list[object]] = [[] for _ in range(8)]
    for item in items:
        event = item.event
        row = (
            event.event_id,
            event.event_type,
            event.schema_version,
            event.key,
            event.occurred_at,
            event.model_dump_json(),
            item.partition,
            item.offset,
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


class Sink(Protocol):
    async def write(self, batch: Sequence[Landed]) -> None: ...


class EventSink:
    """Writes a batch in one transaction; a redelivered event (same ``event_id``) adds no row."""

    def __init__(self, database_url: str) -> None:
        self._database = LazyAsyncPool(database_url)

    async def close(self) -> None:
        await self._database.close()

    async def write(self, batch: Sequence[Landed]) -> None:
        tickets = [item for item in batch if isinstance(item.event, events.TicketEventBase)]
        agents = [item for item in batch if isinstance(item.event, events.AgentEventBase)]
        if not tickets and not agents:
            return
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            if tickets:
                await cursor.execute(_TICKET_SQL, _columns(tickets))
            if agents:
                await cursor.execute(_AGENT_SQL, _columns(agents))
