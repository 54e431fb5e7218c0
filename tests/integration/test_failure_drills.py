"""Failure drills on a Kafka and a PostgreSQL of the drill's own (it kills them, so they cannot be
the session's): while tens of thousands of tickets are published, the worker is killed with
SIGKILL and replaced, PostgreSQL crashes for 20 s (and the broker is killed and restarted while it
is away), and the broker is killed with SIGKILL and restarted once more. Afterwards every ticket is
stored and categorized exactly once, no ticket is routed twice in one round, and the floor is up to
date. The hostile drill mixes a corpus of hostile
messages into the stream: each one lands or is dead-lettered, once, as the kind it deserves, and
the worker never stops."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition
from sqlalchemy.engine import make_url

from cxa import db, deadletters, events, topics
from cxa.kafka import ensure_topics, producer_config, topic_lags
from cxa.settings import KafkaSettings, StackSettings
from cxa.stack import KafkaBroker, PostgresCluster, throwaway_stack
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher
from tests.integration.hostile import HostileMessage, hostile_messages
from tests.integration.processes import kill_broker, one_row, wait_for, worker

# A drill runs 1.5-3 minutes; its own waits, generous on a loaded machine, name what did not happen.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

TICKETS = 20_000
RATE = 250
"""Tickets per second: the producer is still publishing when the worker dies and PostgreSQL crashes."""
AGENTS = 6
OUTAGE_SECONDS = 20
CXA = (sys.executable, "-m", "cxa")

Where = tuple[str, int, int]
"""A message's topic, partition and offset."""


@dataclass(frozen=True)
class DrillStack:
    broker: KafkaBroker
    postgres: PostgresCluster
    database_url: str

    @property
    def kafka(self) -> KafkaSettings:
        return KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap_servers)


@dataclass(frozen=True)
class Delivered:
    """A hostile message and where Kafka put it."""

    message: HostileMessage
    partition: int
    offset: int

    @property
    def where(self) -> Where:
        return (self.message.topic, self.partition, self.offset)


@pytest.fixture
def drill_stack(tmp_path: Path, stack_settings: StackSettings) -> Iterator[DrillStack]:
    with throwaway_stack(tmp_path / "stack", stack_settings, kafka_heap="384m") as (broker, postgres):
        ensure_topics(KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers))
        postgres.create_database("cxa")
        url = make_url(postgres.url).set(database="cxa").render_as_string(hide_password=False)
        db.migrate(url)
        yield DrillStack(broker, postgres, url)


def _tail(path: Path, size: int = 3000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else f"({path} is missing)"


def _publish_agents(kafka: KafkaSettings, seed: int) -> None:
    """Support agents online with room for tickets, so that the router has work to do."""
    now = datetime.now(UTC)
    with Publisher(kafka) as publisher:
        for n in range(AGENTS):
            agent_id = f"D{seed}-A{n}"
            for event in (
                events.AgentSkillsChanged(agent_id=agent_id, occurred_at=now, skills={}, languages=["en"]),
                events.AgentCapacityChanged(agent_id=agent_id, occurred_at=now, capacity=10),
                events.AgentStatusChanged(
                    agent_id=agent_id, occurred_at=now, status=events.AgentStatus.ONLINE
                ),
            ):
                publisher.publish(topics.AGENT_EVENTS, agent_id, events.serialize(event))


def _publish_hostile(kafka: KafkaSettings, corpus: list[HostileMessage]) -> list[Delivered]:
    """Publish with a plain producer (tombstones and any key bytes), noting where each one went."""
    producer = Producer(producer_config(kafka))
    delivered: dict[int, Delivered] = {}
    failed: dict[str, str] = {}
    for index, message in enumerate(corpus):

        def report(
            error: KafkaError | None, sent: Message, index: int = index, message: HostileMessage = message
        ) -> None:
            if error is None:
                delivered[index] = Delivered(message, *_position(sent))
            else:
                failed[message.label] = error.str()

        producer.produce(message.topic, value=message.value, key=message.key, on_delivery=report)
    assert producer.flush(60) == 0, "hostile messages still undelivered"
    assert not failed, failed
    return [delivered[index] for index in range(len(corpus))]


def _landed(url: str, seed: int) -> int:
    return int(
        one_row(url, "SELECT count(*) FROM raw.ticket_events WHERE ticket_id LIKE %s", f"T{seed}-%")[0]
    )


def _progress(url: str, seed: int, since: int) -> bool:
    landed = _landed(url, seed)
    return landed > since or landed == TICKETS


def _uncategorized(url: str) -> tuple[int, int]:
    """Created tickets without a categorization, and with more than one."""
    row = one_row(
        url,
        "SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1) FROM ("
        " SELECT (SELECT count(*) FROM raw.ticket_categorizations c WHERE c.ticket_id = e.ticket_id) AS n"
        " FROM raw.ticket_events e WHERE e.event_type = 'ticket.created') AS per_ticket",
    )
    return int(row[0]), int(row[1])


def _diagnosis(stack: DrillStack, group: str) -> str:
    """Where the uncategorized tickets are, and what the worker's group has not read yet."""
    with db.connect(stack.database_url) as conn:
        missing = conn.execute(
            "SELECT e.kafka_partition, count(*), min(e.kafka_offset), max(e.kafka_offset),"
            " min(e.ingested_at), max(e.ingested_at) FROM raw.ticket_events e"
            " WHERE e.event_type = 'ticket.created' AND NOT EXISTS"
            " (SELECT 1 FROM raw.ticket_categorizations c WHERE c.ticket_id = e.ticket_id)"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
    internal = [f"{group}-categorizer-tickets", f"{group}-floor", *topics.SOURCE_TOPICS]
    lags = topic_lags(stack.kafka, group, *internal)
    return f"uncategorized (partition, count, offsets, ingested): {missing}; lags: {lags}"


def _floor_caught_up(url: str, since: datetime) -> bool:
    """The board was written after ``since`` and has seen the newest event in raw."""
    with db.connect(url) as conn:
        row = conn.execute(
            "SELECT updated_at > %s, last_event_at >= greatest("
            " (SELECT max(occurred_at) FROM raw.ticket_events),"
            " (SELECT max(occurred_at) FROM raw.agent_events))"
            " FROM live.floor_summary",
            (since,),
        ).fetchone()
    return row is not None and row == (True, True)


def _run_drill(stack: DrillStack, tmp_path: Path, seed: int, corpus: list[HostileMessage]) -> list[Delivered]:
    """The drill; the hostile corpus (if any) goes out in three parts: once the second worker is up,
    while PostgreSQL is down, and once the broker is back. Returns where each hostile message went."""
    url = stack.database_url
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.broker.bootstrap_servers,
        "DATABASE_URL": url,
        "CXA_WORKER_APP_ID": f"cxa-drill-{seed}",
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        # Production's backoff ceiling is 30 s; 5 s keeps the drill short once PostgreSQL is back.
        "CXA_WORKER_RETRY_MAX_SECONDS": "5",
    }
    thirds = [corpus[: len(corpus) // 3], corpus[len(corpus) // 3 : 2 * len(corpus) // 3]]
    thirds.append(corpus[2 * len(corpus) // 3 :])
    delivered: list[Delivered] = []
    _publish_agents(stack.kafka, seed)
    with ExitStack() as running:
        first = running.enter_context(
            worker({**env, "CXA_WORKER_DATA_DIR": str(tmp_path / "a")}, tmp_path / "worker-a.log")
        )
        producer_log = tmp_path / "producer.log"
        with producer_log.open("wb") as out:
            producer = subprocess.Popen(
                [*CXA, "produce", "tickets", "-n", str(TICKETS), "--seed", str(seed), "--rate", str(RATE)],
                env={**os.environ, **env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        running.callback(producer.kill)  # if the drill fails before the producer is done
        wait_for(lambda: _landed(url, seed) > 0, timeout=120, what="the first tickets to land")

        first.send_signal(signal.SIGKILL)  # mid-stream: its successor must lose and repeat nothing
        first.wait()
        log = tmp_path / "worker-b.log"
        second = running.enter_context(worker({**env, "CXA_WORKER_DATA_DIR": str(tmp_path / "b")}, log))
        if corpus:
            delivered += _publish_hostile(stack.kafka, thirds[0])
        since = _landed(url, seed)
        wait_for(lambda: _progress(url, seed, since), timeout=120, what="the second worker to take over")

        stack.postgres.crash()
        if corpus:
            delivered += _publish_hostile(stack.kafka, thirds[1])
        # The broker restarts while a batch waits for PostgreSQL and the worker holds the records it
        # fetched after it: the group rebalances around a batch in flight (records must be read
        # again from the committed offsets, none skipped).
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        kill_broker(stack.broker)
        stack.broker.start()
        time.sleep(max(0.0, outage_ends - time.monotonic()))  # the drill itself, no polling
        stack.postgres.start()
        since = _landed(url, seed)
        wait_for(lambda: _progress(url, seed, since), timeout=90, what="writes after PostgreSQL's return")
        assert second.poll() is None, f"the worker stopped with PostgreSQL:\n{_tail(log)}"

        kill_broker(stack.broker)
        stack.broker.start()
        restarted_at = one_row(url, "SELECT now()")[0]
        if corpus:
            delivered += _publish_hostile(stack.kafka, thirds[2])
        assert producer.wait(timeout=120) == 0, _tail(producer_log)
        try:
            wait_for(
                lambda: _landed(url, seed) >= TICKETS, timeout=240, what=f"{TICKETS} tickets in raw ({seed=})"
            )
            wait_for(lambda: _uncategorized(url) == (0, 0), timeout=120, what="every ticket categorized")
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}: {_landed(url, seed)} landed; {_diagnosis(stack, env['CXA_WORKER_APP_ID'])};"
                f" the worker's log ends:\n{_tail(log)}"
            ) from None
        wait_for(lambda: _floor_caught_up(url, restarted_at), timeout=60, what="the floor to catch up")
        # Agent events and the last hostile messages have no ticket count to wait for: reconcile only
        # once nothing published is unaccounted for (a message truly lost still fails, here or below).
        try:
            wait_for(
                lambda: not [p for p in _reconcile(stack, delivered) if "neither landed nor" in p],
                timeout=120,
                interval=2.0,
                what="every published message landed or dead-lettered",
            )
        except AssertionError as exc:
            problems = "\n".join(_reconcile(stack, delivered)[:20])
            raise AssertionError(f"{exc}:\n{problems}\nthe worker's log ends:\n{_tail(log)}") from None
        assert second.poll() is None, f"the worker stopped with the broker:\n{_tail(log)}"
        crashed = [line for line in _tail(log, 10**7).splitlines() if "]: Crashed reason=" in line]
        assert not crashed, crashed  # no Faust agent of the surviving worker crashed, nor was restarted
    return delivered


def _assert_tickets_once(url: str, seed: int) -> None:
    expected = {str(event.event_id) for event in demo_tickets(TICKETS, seed)}
    with db.connect(url) as conn:
        rows = conn.execute(
            "SELECT ticket_id, event_id::text FROM raw.ticket_events WHERE ticket_id LIKE %s",
            (f"T{seed}-%",),
        ).fetchall()
        categorized = conn.execute(
            "SELECT count(*), count(DISTINCT ticket_id) FROM raw.ticket_categorizations"
            " WHERE ticket_id LIKE %s",
            (f"T{seed}-%",),
        ).fetchone()
        twice_in_a_round = conn.execute(
            "SELECT ticket_id, decided_at, count(*) FROM raw.routing_decisions"
            " GROUP BY ticket_id, decided_at HAVING count(*) > 1 LIMIT 5"
        ).fetchall()
        decisions = conn.execute("SELECT count(*) FROM raw.routing_decisions").fetchone()
    assert len(rows) == TICKETS
    assert len({ticket_id for ticket_id, _ in rows}) == TICKETS
    assert {event_id for _, event_id in rows} == expected
    assert categorized == (TICKETS, TICKETS)
    assert decisions is not None
    assert decisions[0] > 0  # the router had agents, and used them
    assert not twice_in_a_round


def test_the_platform_rides_out_a_worker_crash_a_database_crash_and_a_broker_crash(
    drill_stack: DrillStack, tmp_path: Path
) -> None:
    seed = uuid.uuid4().int % 1_000_000
    _run_drill(drill_stack, tmp_path, seed, corpus=[])
    _assert_tickets_once(drill_stack.database_url, seed)
    with db.connect(drill_stack.database_url) as conn:
        refused = conn.execute("SELECT kind, left(reason, 300) FROM live.deadletters LIMIT 10").fetchall()
    assert not refused  # nothing in a plain drill is refused: no outage may pass for a bad message


# -- the hostile drill ---------------------------------------------------------------------------


class Record(NamedTuple):
    partition: int
    offset: int
    value: bytes | None
    headers: dict[str, str]


def _position(message: Message) -> tuple[int, int]:
    partition, offset = message.partition(), message.offset()
    assert partition is not None
    assert offset is not None
    return partition, offset


def _read_topic(kafka: KafkaSettings, topic: str) -> list[Record]:
    """Every message on ``topic``, from the first offset to the end."""
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": f"drill-reader-{uuid.uuid4()}",
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions
        }
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        records: list[Record] = []
        left = {p for p, end in ends.items() if end > 0}

        def read() -> bool:
            for message in consumer.consume(num_messages=5000, timeout=0.5):
                if message.error() is not None:
                    continue
                partition, offset = _position(message)
                headers = {name: value.decode() for name, value in message.headers() or [] if value}
                records.append(Record(partition, offset, message.value(), headers))
                if offset >= ends[partition] - 1:
                    left.discard(partition)
            return not left

        wait_for(read, timeout=60, what=f"every message on {topic}")
    finally:
        consumer.close()
    return records


def _event_id(value: bytes | None) -> str | None:
    try:
        document = json.loads(value or b"")
    except ValueError:
        return None
    return str(document.get("event_id")) if isinstance(document, dict) else None


def _reconcile(stack: DrillStack, delivered: list[Delivered]) -> list[str]:
    """Every message on the source topics is landed (its own row in raw, or for a redelivery the
    row of its event id) or dead-lettered once, not both; each hostile one as it should be."""
    with db.connect(stack.database_url) as conn:
        landed: set[Where] = set()
        landed_ids: set[str] = set()
        for table, topic in (("ticket_events", topics.TICKET_EVENTS), ("agent_events", topics.AGENT_EVENTS)):
            for partition, offset, event_id in conn.execute(
                f"SELECT kafka_partition, kafka_offset, event_id::text FROM raw.{table}"
            ):
                landed.add((topic, partition, offset))
                landed_ids.add(event_id)
        letters: dict[Where, tuple[str, str]] = {
            (topic, partition, offset): (kind, reason)
            for topic, partition, offset, kind, reason in conn.execute(
                "SELECT origin_topic, origin_partition, origin_offset, kind, reason FROM live.deadletters"
            )
        }
    published: dict[Where, bytes | None] = {}
    for topic in topics.SOURCE_TOPICS:
        for record in _read_topic(stack.kafka, topic):
            published[(topic, record.partition, record.offset)] = record.value

    def is_landed(where: Where) -> bool:
        return where in landed or (where not in letters and _event_id(published.get(where)) in landed_ids)

    problems = [
        f"{where}: landed and dead-lettered" for where in published if where in landed and where in letters
    ]
    problems += [
        f"{where}: neither landed nor dead-lettered"
        for where in published
        if not is_landed(where) and where not in letters
    ]
    problems += [
        f"{where}: a dead letter for no message published" for where in letters if where not in published
    ]
    problems += [f"{where}: a row for no message published" for where in landed if where not in published]
    for item in delivered:
        expected = item.message.expected
        kind, reason = letters.get(item.where, (None, ""))
        outcome = kind or ("landed" if is_landed(item.where) else "lost")
        if outcome != (expected.value if expected else "landed"):
            problems.append(
                f"{item.message.label!r}: expected {expected.value if expected else 'to land'}, "
                f"got {outcome} {reason[:200]!r}"
            )

    # The Kafka copy of each dead letter: on cxa.deadletter, with the same kind and origin.
    in_kafka: dict[Where, set[str]] = {}
    for record in _read_topic(stack.kafka, topics.DEADLETTER):
        headers = record.headers
        origin = (
            headers.get(deadletters.ORIGIN_TOPIC_HEADER, ""),
            int(headers.get(deadletters.ORIGIN_PARTITION_HEADER, -1)),
            int(headers.get(deadletters.ORIGIN_OFFSET_HEADER, -1)),
        )
        in_kafka.setdefault(origin, set()).add(headers.get(deadletters.KIND_HEADER, ""))
    problems += [
        f"{where}: {kind} in live.deadletters, {sorted(in_kafka.get(where, set()))} on {topics.DEADLETTER}"
        for where, (kind, _) in letters.items()
        if in_kafka.get(where) != {kind}
    ]
    return problems


def test_hostile_messages_are_dead_lettered_once_and_the_worker_never_stops(
    drill_stack: DrillStack, tmp_path: Path
) -> None:
    seed = uuid.uuid4().int % 1_000_000
    corpus = hostile_messages(seed, datetime.now(UTC))
    delivered = _run_drill(drill_stack, tmp_path, seed, corpus)
    _assert_tickets_once(drill_stack.database_url, seed)
    problems = _reconcile(drill_stack, delivered)
    assert not problems, "\n".join(problems)
