"""The gateway's dead letters on cxa.deadletter become live.deadletters rows; the worker's own do not."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

from cxa import deadletters, topics
from cxa.deadletters import Refusal
from stream_processors.ingest.deadletters import DeadLetter, Source
from stream_processors.ingest.gateway_deadletters import GatewayDeadLetters, gateway_letter


def headers(
    origin: str | None, kind: str = "schema", at: str = "2026-12-02T10:00:00+00:00"
) -> list[tuple[str, bytes]]:
    made = [
        (deadletters.REASON_HEADER, b"zendesk status 'awaiting_parts' is not in the mapping"),
        (deadletters.KIND_HEADER, kind.encode()),
        (deadletters.AT_HEADER, at.encode()),
    ]
    return made + ([(deadletters.ORIGIN_TOPIC_HEADER, origin.encode())] if origin else [])


def test_a_gateway_letter_is_keyed_where_it_sits_on_the_deadletter_topic() -> None:
    record = Source(
        topics.DEADLETTER, 2, 41, b"webhook/zendesk", b'{"type": "zen:event-type:ticket.status_changed"}'
    )
    letter = gateway_letter(record, headers("webhook/zendesk"), topics.SOURCE_TOPICS)
    assert letter == DeadLetter(
        source=Source("webhook/zendesk", 2, 41, record.key, record.value),
        kind=Refusal.SCHEMA,
        reason="zendesk status 'awaiting_parts' is not in the mapping",
        at=datetime(2026, 12, 2, 10, tzinfo=UTC),
    )


def test_the_workers_own_letters_and_letters_without_an_origin_are_left_alone() -> None:
    record = Source(topics.DEADLETTER, 0, 7, b"T1", b"{}")
    assert gateway_letter(record, headers(topics.TICKET_EVENTS), topics.SOURCE_TOPICS) is None
    assert gateway_letter(record, headers(None), topics.SOURCE_TOPICS) is None


def test_an_unknown_kind_or_time_still_records_the_letter() -> None:
    record = Source(topics.DEADLETTER, 0, 8, b"http/events", b"[")
    letter = gateway_letter(
        record, headers("http/events", kind="novel", at="yesterday"), topics.SOURCE_TOPICS
    )
    assert letter is not None
    assert letter.kind == Refusal.MALFORMED
    assert letter.at.tzinfo is not None


class Store:
    def __init__(self) -> None:
        self.calls: list[list[DeadLetter]] = []
        self.failures = 1

    async def record(self, letters: Sequence[DeadLetter], max_value_bytes: int) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("PostgreSQL is restarting")
        self.calls.append(list(letters))


def test_the_handler_records_only_the_gateways_and_retries_the_store() -> None:
    store = Store()
    handler = GatewayDeadLetters(store, topics.SOURCE_TOPICS, max_value_bytes=1024, retry_max_seconds=0.01)
    records = [
        (Source(topics.DEADLETTER, 0, 1, b"T1", b"{}"), headers(topics.TICKET_EVENTS)),
        (Source(topics.DEADLETTER, 0, 2, b"webhook/jira", b"{}"), headers("webhook/jira")),
    ]
    assert asyncio.run(handler.handle(records)) == 1
    assert [[letter.source.topic for letter in call] for call in store.calls] == [["webhook/jira"]]
    assert asyncio.run(handler.handle(records[:1])) == 0
    assert len(store.calls) == 1
