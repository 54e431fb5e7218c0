"""Idempotent, batched writes of validated events into ``raw`` (PostgreSQL)."""

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg import AsyncCursor

from cxa import events
from cxa.db import LazyAsyncPool
from stream_processors.ingest.deadletters import Source
from stream_processors.ingest.validation import ValidEvent


@dataclass(frozen=True)
class Landed:
    """A validated event and the message it was read from."""

    event: ValidEvent
    source: Source

    @property
    def document(self) -> str:
        """The event's stored form (its JSON, as the ``payload`` column holds it)."""
        return self.event.model_dump_json()


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
RETURNING event_id
"""


_TABLES = {"ticket_events": "ticket_id", "agent_events": "agent_id"}
_INSERT = {table: _insert(table, key) for table, key in _TABLES.items()}
_STORED = {table: f"SELECT event_id, payload FROM raw.{table} WHERE event_id = ANY(%s)" for table in _TABLES}


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
            item.document,
            item.source.partition,
            item.source.offset,
        )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    return columns


class Sink(Protocol):
    async def write(self, batch: Sequence[Landed]) -> list[Landed]:
        """Store the batch; return the events whose ``event_id`` is stored with other content."""
        ...


class EventSink:
    """Writes a batch in one transaction; a redelivered event (same ``event_id``) adds no row, and
    one that reuses an ``event_id`` for other content is returned as a conflict."""

    def __init__(self, database_url: str) -> None:
        self._database = LazyAsyncPool(database_url)

    async def close(self) -> None:
        await self._database.close()

    async def write(self, batch: Sequence[Landed]) -> list[Landed]:
        by_table: dict[str, list[Landed]] = {"ticket_events": [], "agent_events": []}
        for item in batch:
            table = "ticket_events" if isinstance(item.event, events.TicketEventBase) else "agent_events"
            by_table[table].append(item)
        if not batch:
            return []
        conflicts: list[Landed] = []
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            for table, items in by_table.items():
                if items:
                    await cursor.execute(_INSERT[table], _columns(items))
                    inserted = {row[0] for row in await cursor.fetchall()}
                    conflicts += await _conflicting(cursor, table, items, inserted)
        return conflicts


async def _conflicting(
    cursor: AsyncCursor[Any], table: str, items: Sequence[Landed], inserted: set[Any]
) -> list[Landed]:
    """The items whose id was already stored (or is repeated in the batch) with other content.

    Only redeliveries reach the query (ids that were not inserted now, or that the batch repeats),
    so the usual batch costs nothing more than its INSERT.
    """
    repeated = Counter(item.event.event_id for item in items)
    suspects = [
        item for item in items if item.event.event_id not in inserted or repeated[item.event.event_id] > 1
    ]
    if not suspects:
        return []
    await cursor.execute(_STORED[table], ([item.event.event_id for item in suspects],))
    stored = {event_id: payload for event_id, payload in await cursor.fetchall()}
    return [item for item in suspects if stored.get(item.event.event_id) != json.loads(item.document)]
