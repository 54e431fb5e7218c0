"""The ingest handler, called directly: validation, dead letters once, isolation of what a store refuses."""

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from aiokafka import errors as kafka_errors
from faust.exceptions import ProducerSendError

from cxa import deadletters, events, topics
from cxa.deadletters import Refusal
from stream_processors.ingest.deadletters import DeadLetter, Outgoing, Source
from stream_processors.ingest.handler import IngestHandler
from stream_processors.ingest.sink import Landed
from stream_processors.ingest.validation import Limits
from stream_processors.retrying import is_transient, refusal_of

NOW = datetime.now(UTC)


class Refused(psycopg.errors.UntranslatableCharacter):
    """What PostgreSQL raises for a row it cannot store (SQLSTATE class 22)."""


class FakeSink:
    """Stores by event id like the real one; refuses bodies containing "poison"; fails ``outages`` times."""

    def __init__(self, outages: int = 0) -> None:
        self.rows: dict[str, Landed] = {}
        self.outages = outages
        self.attempts = 0

    async def write(self, batch: Sequence[Landed]) -> list[Landed]:
        self.attempts += 1
        if self.outages:
            self.outages -= 1
            raise psycopg.OperationalError("connection refused")
        if any("poison" in getattr(item.event, "body", "") for item in batch):
            raise Refused("unsupported Unicode escape sequence")
        conflicts = []
        for item in batch:
            stored = self.rows.setdefault(str(item.event.event_id), item)
            if stored.document != item.document:
                conflicts.append(item)
        return conflicts


class Recorder:
    """Kafka (dead letters) and live.deadletters, with ``outages`` failed publishes first."""

    def __init__(self, outages: int = 0) -> None:
        self.published: list[Outgoing] = []
        self.recorded: list[DeadLetter] = []
        self.forwarded: list[list[Landed]] = []
        self.outages = outages

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        if self.outages:
            self.outages -= 1
            raise ConnectionError("broker away")
        self.published.extend(messages)

    async def record(self, letters: Sequence[DeadLetter], max_value_bytes: int) -> None:
        self.recorded.extend(letters)

    async def forward(self, landed: Sequence[Landed]) -> None:
        self.forwarded.append(list(landed))


def _handler(sink: FakeSink, recorder: Recorder, **limits: object) -> IngestHandler:
    return IngestHandler(
        sink=sink,
        publish_deadletters=recorder.publish,
        deadletter_store=recorder,
        forwards=[recorder.forward],
        limits=Limits(**limits),  # type: ignore[arg-type]
        deadletter_max_bytes=2048,
        retry_max_seconds=0.01,
    )


def _ticket(ticket_id: str, body: str = "My card is lost", **changes: object) -> bytes:
    event = events.TicketCreated(
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, ticket_id),
        ticket_id=ticket_id,
        occurred_at=NOW - timedelta(minutes=1),
        customer_id="C1",
        channel="email",
        priority="normal",
        subject="Hello",
        body=body,
    )
    return events.serialize(event.model_copy(update=changes))


def _messages(*values: tuple[str, bytes | None, bytes | None]) -> list[Source]:
    return [Source(topic, 0, offset, key, value) for offset, (topic, key, value) in enumerate(values)]


def _run(handler: IngestHandler, messages: list[Source]) -> None:
    asyncio.run(handler.handle(messages))


def test_valid_events_land_and_are_forwarded_and_bad_ones_are_dead_lettered_with_their_kind() -> None:
    sink, recorder = FakeSink(), Recorder()
    agent_event = events.serialize(events.AgentStatusChanged(agent_id="A1", occurred_at=NOW, status="online"))
    far_future = _ticket("T5", occurred_at=datetime(9999, 1, 1, tzinfo=UTC))
    nul = _ticket("T6").replace(b"My card", b"My\\u0000card")
    _run(
        _handler(sink, recorder),
        _messages(
            (topics.TICKET_EVENTS, b"T1", _ticket("T1")),
            (topics.TICKET_EVENTS, b"T2", b"{oops"),
            (topics.AGENT_EVENTS, b"A1", agent_event),
            (topics.TICKET_EVENTS, b"T9", _ticket("T3")),
            (topics.TICKET_EVENTS, b"T4", None),
            (topics.TICKET_EVENTS, b"T5", far_future),
            (topics.TICKET_EVENTS, b"T6", nul),
            (topics.AGENT_EVENTS, b"T7", _ticket("T7")),
        ),
    )
    assert [item.event.key for item in sink.rows.values()] == ["T1", "A1"]
    assert [[item.event.key for item in batch] for batch in recorder.forwarded] == [["T1", "A1"]]
    kinds = {letter.source.offset: letter.kind for letter in recorder.recorded}
    assert kinds == {
        1: Refusal.MALFORMED,
        3: Refusal.KEY_MISMATCH,
        4: Refusal.NO_VALUE,
        5: Refusal.CLOCK_SKEW,
        6: Refusal.SCHEMA,
        7: Refusal.WRONG_TOPIC,
    }
    # The Kafka record keeps the original key and bytes; headers say why and where from.
    headers = [dict(message.headers) for message in recorder.published]
    assert [(m.key, m.value) for m in recorder.published][:2] == [(b"T2", b"{oops"), (b"T9", _ticket("T3"))]
    assert "U+0000" in headers[4][deadletters.REASON_HEADER].decode()
    assert headers[3][deadletters.KIND_HEADER] == b"clock_skew"
    assert headers[0][deadletters.ORIGIN_OFFSET_HEADER] == b"1"


def test_a_row_the_store_refuses_is_isolated_and_dead_lettered_once_while_the_rest_lands() -> None:
    sink, recorder = FakeSink(), Recorder()
    values = [(topics.TICKET_EVENTS, f"T{n}".encode(), _ticket(f"T{n}")) for n in range(13)]
    values[9] = (topics.TICKET_EVENTS, b"T9", _ticket("T9", body="poison"))
    _run(_handler(sink, recorder), _messages(*values))
    assert sorted(sink.rows.values(), key=lambda item: item.source.offset) == [
        item for batch in recorder.forwarded for item in batch
    ]
    assert len(sink.rows) == 12
    assert [(letter.source.offset, letter.kind) for letter in recorder.recorded] == [
        (9, Refusal.STORE_REFUSED)
    ]
    assert "unsupported Unicode escape sequence" in recorder.recorded[0].reason
    assert len(recorder.published) == 1


def test_transient_failures_are_retried_without_dead_lettering_again() -> None:
    sink, recorder = FakeSink(outages=3), Recorder(outages=2)
    _run(
        _handler(sink, recorder),
        _messages((topics.TICKET_EVENTS, b"T1", _ticket("T1")), (topics.TICKET_EVENTS, b"T2", b"[")),
    )
    assert list(sink.rows) == [str(json.loads(_ticket("T1"))["event_id"])]
    assert sink.attempts == 4
    assert [letter.source.offset for letter in recorder.recorded] == [1]  # once, whatever was retried
    assert len(recorder.published) == 1


def test_an_event_id_reused_for_other_content_is_dead_lettered_and_not_forwarded() -> None:
    sink, recorder = FakeSink(), Recorder()
    first = _ticket("T1")
    other = first.replace(b"My card is lost", b"Different body")
    _run(
        _handler(sink, recorder),
        _messages((topics.TICKET_EVENTS, b"T1", first), (topics.TICKET_EVENTS, b"T1", other)),
    )
    assert [(letter.source.offset, letter.kind) for letter in recorder.recorded] == [
        (1, Refusal.DUPLICATE_ID)
    ]
    assert [[item.source.offset for item in batch] for batch in recorder.forwarded] == [[0]]


def test_oversized_messages_are_refused_and_dead_letters_stay_bounded() -> None:
    sink, recorder = FakeSink(), Recorder()
    huge = _ticket("T1", body="x" * 5000)
    long_key = b"K" * 5000
    _run(_handler(sink, recorder, max_message_bytes=4096), _messages((topics.TICKET_EVENTS, long_key, huge)))
    assert not sink.rows
    (letter,) = recorder.recorded
    assert letter.kind is Refusal.TOO_LARGE
    (message,) = recorder.published
    assert message.value == huge[:2048]
    assert message.key is not None
    assert len(message.key) == 1024
    assert dict(message.headers)[deadletters.TRUNCATED_HEADER] == str(len(huge)).encode()


def test_a_reason_is_capped_and_storable() -> None:
    reason = "key " + "\x00" * 3000
    capped = deadletters.cap_reason(reason)
    assert len(capped.encode()) <= deadletters.REASON_MAX_BYTES
    assert "\x00" not in capped
    assert capped.endswith("…")


@pytest.mark.parametrize(
    "moment",
    [lambda: datetime(1999, 12, 31, 23, 59, tzinfo=UTC), lambda: datetime.now(UTC) + timedelta(minutes=6)],
    ids=["before-2000", "six-minutes-ahead"],
)
def test_times_outside_the_clock_skew_are_refused(moment: Callable[[], datetime]) -> None:
    sink, recorder = FakeSink(), Recorder()
    ahead_ok = _ticket("T2", occurred_at=datetime.now(UTC) + timedelta(minutes=4))
    refused = _ticket("T1", occurred_at=moment())
    _run(
        _handler(sink, recorder),
        _messages((topics.TICKET_EVENTS, b"T1", refused), (topics.TICKET_EVENTS, b"T2", ahead_ok)),
    )
    assert [letter.kind for letter in recorder.recorded] == [Refusal.CLOCK_SKEW]
    assert [item.event.key for item in sink.rows.values()] == ["T2"]


class KafkaLikeRecorder(Recorder):
    """Refuses what aiokafka refuses: a record with neither key nor value."""

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        assert all(m.key is not None or m.value is not None for m in messages), "need key or value"
        await super().publish(messages)


def test_a_tombstone_without_a_key_is_dead_lettered_with_an_empty_value() -> None:
    sink, recorder = FakeSink(), KafkaLikeRecorder()
    _run(_handler(sink, recorder), _messages((topics.TICKET_EVENTS, None, None)))
    (message,) = recorder.published
    assert (message.key, message.value) == (None, b"")
    assert dict(message.headers)[deadletters.NULL_VALUE_HEADER] == b"1"
    assert [letter.kind for letter in recorder.recorded] == [Refusal.NO_VALUE]


def test_what_one_forward_refuses_goes_no_further_and_is_dead_lettered_once() -> None:
    sink, recorder = FakeSink(), Recorder()
    later: list[list[Landed]] = []

    async def refuses_t2(landed: Sequence[Landed]) -> None:
        if any(item.event.key == "T2" for item in landed):
            raise TypeError("a bug for T2")

    async def next_forward(landed: Sequence[Landed]) -> None:
        later.append(list(landed))

    handler = _handler(sink, recorder)
    handler.forwards = [refuses_t2, next_forward]
    _run(handler, _messages(*[(topics.TICKET_EVENTS, f"T{n}".encode(), _ticket(f"T{n}")) for n in range(4)]))
    assert [letter.kind for letter in recorder.recorded] == [Refusal.HANDLER_ERROR]
    assert len(recorder.published) == 1
    assert [item.event.key for batch in later for item in batch] == ["T0", "T1", "T3"]


def test_faust_wrapped_kafka_errors_are_classified_by_their_cause() -> None:
    def wrapped(error: Exception) -> ProducerSendError:
        try:
            raise ProducerSendError(f"Error while sending: {error!r}") from error
        except ProducerSendError as exc:
            return exc

    assert is_transient(wrapped(kafka_errors.KafkaTimeoutError()))
    assert not is_transient(wrapped(kafka_errors.MessageSizeTooLargeError()))
    assert refusal_of(wrapped(kafka_errors.MessageSizeTooLargeError())) is Refusal.STORE_REFUSED
    assert not is_transient(psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes"))
    assert is_transient(psycopg.OperationalError("connection refused"))
    assert not is_transient(Refused("unsupported Unicode escape sequence"))
    assert refusal_of(TypeError("a bug")) is Refusal.HANDLER_ERROR
