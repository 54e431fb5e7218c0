"""The sink on a real PostgreSQL: one multi-row INSERT per table and batch, idempotent by event id."""

import asyncio
import json
from datetime import UTC, datetime

import pytest

from cxa import db, events
from stream_processors.sink import EventSink, Landed

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def test_a_batch_lands_once_whatever_is_repeated(database_url: str) -> None:
    created = events.TicketCreated(
        ticket_id="SINK-1", occurred_at=WHEN, customer_id="C1", channel="email",
        priority="high", subject="Card", body='Quotes " and \\ and émojis 💳',
    )  # fmt: skip
    status = events.AgentStatusChanged(agent_id="SINK-A1", occurred_at=WHEN, status="online")
    batch = [Landed(created, 2, 40), Landed(status, 0, 7), Landed(created, 2, 40)]  # a duplicate inside

    async def write_twice() -> None:
        sink = EventSink(database_url)
        try:
            await sink.write(batch)
            await sink.write(batch[:1])  # redelivered later
        finally:
            await sink.close()

    asyncio.run(write_twice())
    with db.connect(database_url) as conn:
        tickets = conn.execute(
            "SELECT event_id, event_type, ticket_id, occurred_at, payload, kafka_partition, kafka_offset"
            " FROM raw.ticket_events WHERE ticket_id = 'SINK-1'"
        ).fetchall()
        agents = conn.execute(
            "SELECT agent_id, kafka_offset FROM raw.agent_events WHERE agent_id = 'SINK-A1'"
        ).fetchall()
    assert len(tickets) == 1
    event_id, event_type, ticket_id, occurred_at, payload, partition, offset = tickets[0]
    assert (event_id, event_type, ticket_id) == (created.event_id, "ticket.created", "SINK-1")
    assert occurred_at == WHEN
    assert (partition, offset) == (2, 40)
    assert payload == json.loads(created.model_dump_json())
    assert payload["body"] == 'Quotes " and \\ and émojis 💳'
    assert agents == [("SINK-A1", 7)]
