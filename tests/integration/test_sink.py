"""The sink on a real PostgreSQL: one multi-row INSERT per table and batch, idempotent by event id."""

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxa import db, events, topics
from stream_processors.ingest.deadletters import Source
from stream_processors.ingest.sink import EventSink, Landed
from stream_processors.ingest.validation import validate
from tests.integration.processes import one_row
from tests.strategies import any_text, near_valid

pytestmark = pytest.mark.integration

WHEN = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
TEMPLATE = events.TicketCreated(
    ticket_id="SINK-P",
    occurred_at=WHEN,
    customer_id="C1",
    channel="web",
    priority="low",
    subject="s",
    body="b",
)


def landed(event: events.TicketEvent | events.AgentEvent, partition: int, offset: int) -> Landed:
    topic = topics.TICKET_EVENTS if isinstance(event, events.TicketEventBase) else topics.AGENT_EVENTS
    return Landed(event, Source(topic, partition, offset, event.key.encode(), events.serialize(event)))


def test_a_batch_lands_once_whatever_is_repeated(database_url: str) -> None:
    created = events.TicketCreated(
        ticket_id="SINK-1", occurred_at=WHEN, customer_id="C1", channel="email",
        priority="high", subject="Card", body='Quotes " and \\ and émojis 💳',
    )  # fmt: skip
    status = events.AgentStatusChanged(agent_id="SINK-A1", occurred_at=WHEN, status="online")
    batch = [landed(created, 2, 40), landed(status, 0, 7), landed(created, 2, 40)]  # a duplicate inside

    async def write_twice() -> list[list[Landed]]:
        sink = EventSink(database_url)
        try:
            return [await sink.write(batch), await sink.write(batch[:1])]  # redelivered later
        finally:
            await sink.close()

    assert asyncio.run(write_twice()) == [[], []]  # the same content again is no conflict
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


def test_an_event_id_reused_for_other_content_is_returned_as_a_conflict(database_url: str) -> None:
    first = events.TicketCreated(
        ticket_id="SINK-2", occurred_at=WHEN, customer_id="C1", channel="email",
        priority="high", subject="Card", body="Lost",
    )  # fmt: skip
    other = first.model_copy(update={"body": "Found it"})
    again = first.model_copy(update={"body": "Stolen"})

    async def write() -> list[list[Landed]]:
        sink = EventSink(database_url)
        try:
            inside = [landed(first, 0, 1), landed(other, 0, 2)]  # the same id twice in one batch
            return [await sink.write(inside), await sink.write([landed(again, 0, 3), landed(first, 0, 4)])]
        finally:
            await sink.close()

    within, across = asyncio.run(write())
    assert [(item.event.body, item.source.offset) for item in within] == [("Found it", 2)]
    assert [(item.event.body, item.source.offset) for item in across] == [("Stolen", 3)]
    assert one_row(database_url, "SELECT count(*), min(payload->>'body') FROM raw.ticket_events") == (
        1,
        "Lost",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(near_valid(TEMPLATE), any_text(TEMPLATE)))
def test_whatever_validation_accepts_postgresql_stores(database_url: str, value: bytes) -> None:
    try:
        event = validate(topics.TICKET_EVENTS, None, value, now=WHEN)
    except events.InvalidEvent:
        return
    event = event.model_copy(update={"event_id": uuid.uuid4()})

    async def write() -> list[Landed]:
        sink = EventSink(database_url)
        try:
            return await sink.write([landed(event, 0, 0)])
        finally:
            await sink.close()

    assert asyncio.run(write()) == []
    stored = one_row(
        database_url, "SELECT payload FROM raw.ticket_events WHERE event_id = %s", event.event_id
    )
    assert stored == (json.loads(event.model_dump_json()),)
