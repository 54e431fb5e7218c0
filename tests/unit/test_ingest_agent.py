"""The ingest Faust agent wired by the app, under test_context(): no broker, a fake sink, a mocked send.

The handler's own behaviour is tested directly in test_ingest_handler.py; this checks the wiring:
what reaches the dead-letter topic, the floor and the categorizer's topic."""

import asyncio
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast
from unittest.mock import patch

import faust

from cxa import events, topics
from stream_processors.app import create_app
from stream_processors.ingest.sink import Landed
from stream_processors.settings import WorkerSettings

WHEN = datetime.now(UTC)
FLOOR = topics.floor_topic(WorkerSettings().app_id)
TO_CATEGORIZE = topics.categorizer_tickets_topic(WorkerSettings().app_id)


class RecordingSink:
    def __init__(self, failures: int = 0) -> None:
        self.rows: list[Landed] = []
        self.failures = failures

    async def write(self, batch: Sequence[Landed]) -> list[Landed]:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database is down")
        self.rows.extend(batch)
        return []


class NullDeadLetterStore:
    async def record(self, letters: Sequence[object], max_value_bytes: int) -> None:
        return None


async def _deliver(agent: Any, topic: str, key: bytes, value: bytes) -> None:
    """Put a message as if it came from ``topic`` (test_context's own put names no topic)."""
    with patch.object(agent, "_get_strtopic", lambda channel: topic):
        await agent.put(value, key=key, wait=False)


async def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _run(sink: RecordingSink, messages: list[tuple[str, bytes, bytes]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def fake_send(self: faust.TopicT, **kwargs: Any) -> asyncio.Future[None]:
        sent.append({"topic": self.get_topic_name(), **kwargs})
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def scenario() -> None:
        settings = WorkerSettings(sink_batch_size=10, sink_batch_seconds=0.05, retry_max_seconds=0.05)
        app = create_app(settings, sink=sink, deadletter_store=NullDeadLetterStore())
        app.finalize()
        agent = app.agents["ingest_events"]
        with patch.object(faust.Topic, "send", fake_send):
            async with agent.test_context() as running:
                for topic, key, value in messages:
                    await _deliver(running, topic, key, value)
                await _until(
                    lambda: (
                        len(sink.rows) + sum(m["topic"] == topics.DEADLETTER for m in sent) >= len(messages)
                        and (not sink.rows or any(m["topic"] == FLOOR for m in sent))
                    )
                )

    asyncio.run(scenario())
    return sent


def _ticket(ticket_id: str) -> bytes:
    return events.serialize(
        events.TicketCreated(
            ticket_id=ticket_id,
            occurred_at=WHEN,
            customer_id="C1",
            channel="email",
            priority="normal",
            subject="Hello",
            body="My card is lost",
        )
    )


def test_valid_events_reach_the_sink_and_bad_ones_the_dead_letter_topic() -> None:
    sink = RecordingSink()
    misrouted = _ticket("T3")
    first = _ticket("T1")
    agent_event = events.serialize(
        events.AgentStatusChanged(agent_id="A1", occurred_at=WHEN, status="online")
    )
    sent = _run(
        sink,
        [
            (topics.TICKET_EVENTS, b"T1", first),
            (topics.TICKET_EVENTS, b"T2", b"{oops"),
            (topics.AGENT_EVENTS, b"A1", agent_event),
            (topics.TICKET_EVENTS, b"T9", misrouted),
        ],
    )
    assert [row.event.key for row in sink.rows] == ["T1", "A1"]
    forwarded = [doc for m in sent if m["topic"] == FLOOR for doc in json.loads(m["value"])]
    assert forwarded == [json.loads(first), json.loads(agent_event)]  # valid events go on to the floor
    to_categorize = [(m["partition"], json.loads(m["value"])) for m in sent if m["topic"] == TO_CATEGORIZE]
    assert to_categorize == [(0, [json.loads(first)])]  # valid ticket events the categorizer needs
    letters = [message for message in sent if message["topic"] == topics.DEADLETTER]
    assert [(letter["topic"], letter["key"], letter["value"]) for letter in letters] == [
        (topics.DEADLETTER, b"T2", b"{oops"),
        (topics.DEADLETTER, b"T9", misrouted),
    ]
    reasons = [dict(letter["headers"])["cxa.error.reason"].decode() for letter in letters]
    assert "Invalid JSON" in reasons[0]
    assert "is not the event's entity id" in reasons[1]


def test_a_failing_sink_is_retried_until_the_batch_lands() -> None:
    sink = RecordingSink(failures=2)
    _run(sink, [(topics.TICKET_EVENTS, b"T1", _ticket("T1"))])
    assert [row.event.key for row in sink.rows] == ["T1"]


def test_the_worker_fetches_with_the_configured_wait_and_produces_idempotently() -> None:
    # Faust hard-codes a 1500 ms wait and idempotence only with exactly-once: see transport.py.
    async def scenario() -> tuple[int, bool]:
        app = create_app(WorkerSettings(fetch_max_wait_ms=77), sink=RecordingSink())
        app.finalize()
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        producer = app.producer._new_producer()
        try:
            return int(consumer._fetch_max_wait_ms), bool(producer._txn_manager is not None)
        finally:
            await consumer.stop()
            await producer.stop()

    assert asyncio.run(scenario()) == (77, True)


def _message(offset: int, generation_id: int, partition: int = 0) -> faust.types.Message:
    return faust.types.Message(
        topics.TICKET_EVENTS, partition, offset, 0.0, 0, None, b"T1", b"{}", None, generation_id=generation_id
    )


def _worker_app() -> faust.App:
    """The worker's app as the ingest agent leaves it subscribed, in group generation 5 (call it
    inside the event loop)."""
    app = create_app(WorkerSettings(), sink=RecordingSink())
    app.finalize()
    app.topics._acking_topics.add(topics.TICKET_EVENTS)  # as once the ingest agent subscribes
    app.consumer_generation_id = 5
    return app


def test_a_record_fetched_before_a_rebalance_is_never_counted_as_handled() -> None:
    # Faust's streams acknowledge stale records unhandled; counted, the commit would pass them.
    async def scenario() -> list[bool]:
        app = _worker_app()
        consumer = app.consumer
        stale, rebalancing, current = _message(10, 4), _message(11, 5), _message(12, 5)
        results = [consumer.ack(stale)]
        app.rebalancing = True
        results.append(consumer.ack(rebalancing))
        app.rebalancing = False
        results.append(consumer.ack(current))
        results.append(bool(consumer._acked[current.tp] == [12]))
        return results

    assert asyncio.run(scenario()) == [False, False, True, True]


@contextmanager
def _broker(
    consumer: Any, assigned: set[Any], first: dict[Any, int], committed: dict[Any, int | None] | None = None
) -> Iterator[list[tuple[int, int]]]:
    """The worker's consumer on a broker that gives these first offsets (and committed offsets);
    yields the (partition, offset) of every seek."""
    seeks: list[tuple[int, int]] = []

    async def seek(partition: Any, offset: int) -> None:
        seeks.append((partition.partition, offset))

    async def first_offsets(partitions: Any) -> dict[Any, int]:
        return {tp: first[tp] for tp in partitions}

    async def seek_to_committed() -> dict[Any, int | None]:
        return dict(committed or {})

    with (
        patch.object(consumer, "seek", seek),
        patch.object(consumer, "assignment", lambda: assigned),
        patch.object(consumer._thread, "first_offsets", first_offsets),
        patch.object(consumer, "seek_to_committed", seek_to_committed),
    ):
        yield seeks


async def _read_again(consumer: Any, tp: Any) -> int | None:
    """The commit offset once a head gap is old enough, after the partition was read again."""
    with patch("stream_processors.transport.HEAD_GAP_SECONDS", 0.0):
        offset = consumer._new_offset(tp)
    await asyncio.gather(*consumer.reading_again)
    return cast(int | None, offset)


def test_no_record_is_dropped_as_read_and_a_partition_left_behind_is_read_again() -> None:
    async def scenario() -> tuple[list[int | None], list[tuple[int, int]], list[int], list[int | None]]:
        consumer = _worker_app().consumer
        tp = _message(0, 5).tp
        consumer._committed_offset[tp] = 10
        consumer._read_offset[tp] = 19  # read last, so Faust would drop 10-18 fetched again
        for offset in (20, 21):  # handled, while 10-19 never were
            consumer.ack(_message(offset, 5))
        with _broker(consumer, {tp}, first={tp: 0}) as seeks:
            offsets = [consumer._new_offset(tp)]  # a head gap is given HEAD_GAP_SECONDS to close
            offsets.append(await _read_again(consumer, tp))
        changelog = faust.types.TP("cxa-floor-tickets-changelog", 0)
        consumer._read_offset[changelog] = 7
        read = [consumer._read_offset[tp], consumer._read_offset[changelog]]
        return offsets, seeks, sorted(consumer._acked[tp]), read

    offsets, seeks, acked, read = asyncio.run(scenario())
    assert read == [None, 7]  # nothing dropped as read already, no gap counted; changelogs as Faust
    assert offsets == [None, None]  # nothing committed past offset 10
    assert seeks == [(0, 10)]  # read again from the committed offset, once
    assert acked == [20, 21]


def test_a_single_record_never_handled_is_read_again_before_it_is_committed_past() -> None:
    """Faust takes one missing offset before the first record handled for a transaction's marker
    and commits past it; a record dropped around a rebalance looks the same (a broker-crash drill
    lost the first record of three partitions so). It is read again once, then committed past."""

    async def scenario() -> tuple[list[int | None], list[tuple[int, int]]]:
        consumer = _worker_app().consumer
        tp = _message(0, 5).tp
        consumer._committed_offset[tp] = 10
        for offset in (11, 12):  # handled, while 10 never was
            consumer.ack(_message(offset, 5))
        with _broker(consumer, {tp}, first={tp: 0}) as seeks:
            offsets = [consumer._new_offset(tp)]  # Faust alone would commit 13 here
            offsets.append(await _read_again(consumer, tp))  # read again from 10
            offsets.append(await _read_again(consumer, tp))  # still missing: a marker, passed
        return offsets, seeks

    offsets, seeks = asyncio.run(scenario())
    assert offsets == [None, None, 13]
    assert seeks == [(0, 10)]


def test_what_retention_deleted_is_not_waited_for() -> None:
    """A group back after its committed offset fell out of retention reads on from the partition's
    first offset; that the records before it never come must not hold its commit for good."""

    async def scenario() -> tuple[list[int | None], list[tuple[int, int]]]:
        consumer = _worker_app().consumer
        tp = _message(0, 5).tp
        consumer._committed_offset[tp] = 10
        for offset in (50, 51):  # Kafka reset the position to the first offset it still has
            consumer.ack(_message(offset, 5))
        with _broker(consumer, {tp}, first={tp: 50}) as seeks:
            offsets = [await _read_again(consumer, tp), consumer._new_offset(tp)]
        return offsets, seeks

    offsets, seeks = asyncio.run(scenario())
    assert offsets == [None, 52]
    assert seeks == []  # nothing before 50 to read again


def test_a_partition_with_no_commit_is_read_from_its_first_offset_after_a_rebalance() -> None:
    """aiokafka seeks only to a committed offset above 0: a partition with none kept its position
    past records fetched and dropped around a rebalance (a hostile drill lost two so, after a broker
    crash took the group's first commits). It is read from its first offset, and a record missing at
    the head of what is handled then holds the commit, and is read again, as on a committed one."""
    never, at_zero, committed = (faust.types.TP(topics.TICKET_EVENTS, p) for p in (1, 2, 3))
    changelog = faust.types.TP("cxa-floor-tickets-changelog", 0)

    async def scenario() -> tuple[list[tuple[int, int]], list[int], list[int | None], int | None]:
        consumer = _worker_app().consumer
        consumer._committed_offset[never] = 40  # a commit the broker lost
        assigned = {never, at_zero, committed, changelog}
        stored = {never: None, at_zero: 0, committed: 7, changelog: None}
        with _broker(consumer, assigned, first={never: 0, at_zero: 3}, committed=stored) as seeks:
            await consumer.perform_seek()
            for offset in (4, 5):  # handled, while 3, the first offset of at_zero, never was
                consumer.ack(_message(offset, 5, partition=at_zero.partition))
            acked = list(consumer._acked[at_zero])
            held = [consumer._new_offset(at_zero), await _read_again(consumer, at_zero)]  # Faust: 6
            consumer.ack(_message(0, 5, partition=never.partition))
            return seeks, acked, held, consumer._new_offset(never)

    seeks, acked, held, first = asyncio.run(scenario())
    assert seeks == [(1, 0), (2, 3), (2, 3)]  # sought to the first offsets, then read again from 3
    assert acked == [4, 5]
    assert held == [None, None]
    assert first == 1


def test_a_read_again_overtaken_by_a_rebalance_seeks_nothing() -> None:
    """The first offsets can take seconds; once the group has rebalanced, the partition is read from
    its commit anyway, and a seek to the old offset could only repeat or skip records."""

    async def scenario() -> list[tuple[int, int]]:
        app = _worker_app()
        consumer = app.consumer
        tp = _message(0, 5).tp
        consumer._committed_offset[tp] = 10
        consumer.ack(_message(12, 5))

        async def first_offsets(partitions: Any) -> dict[Any, int]:
            app.consumer_generation_id = 6  # the group rebalanced meanwhile
            return {tp: 0 for tp in partitions}

        with (
            _broker(consumer, {tp}, first={tp: 0}) as seeks,
            patch.object(consumer._thread, "first_offsets", first_offsets),
        ):
            await _read_again(consumer, tp)
        return seeks

    assert asyncio.run(scenario()) == []
