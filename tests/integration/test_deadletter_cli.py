"""`cxa deadletter list` and `replay` on the real broker and database.

The first test reads rows put in place by hand (every kind of awkward value, the filters, a
truncated and an unreplayable dead letter, a topic of its own); the second runs the real worker as
the writer: it refuses oversized tickets, the operator lists them, restarts the worker with the
default limit and replays them, and each lands exactly once however often it is replayed.
"""

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from psycopg_pool import ConnectionPool

from cxa import db, events, topics
from cxa.deadletters import REPLAY_OF_HEADER, Refusal
from cxa.kafka import group_lag
from cxa.settings import KafkaSettings
from dash_app.warehouse import Warehouse
from producers.publisher import Publisher
from tests.integration.processes import one_row, start_at_the_end, wait_for, worker

pytestmark = pytest.mark.integration

WHEN_AT_THE_END = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*$")


def cxa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxa", "deadletter", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def insert(database_url: str, *letters: dict[str, object]) -> None:
    """Dead letters as the worker records them: each a dict of live.deadletters' columns."""
    with db.connect(database_url, autocommit=True) as conn:
        for letter in letters:
            row = {"value_bytes": len(letter["message_value"]), "is_truncated": False, "replayed_at": None}
            row |= letter
            conn.execute(
                f"INSERT INTO live.deadletters ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
                list(row.values()),
            )


def letter(
    origin: tuple[str, int, int], kind: str, reason: str, key: bytes | None, value: bytes, **more: object
) -> dict[str, object]:
    topic, partition, offset = origin
    return {
        "origin_topic": topic,
        "origin_partition": partition,
        "origin_offset": offset,
        "kind": kind,
        "reason": reason,
        "message_key": key,
        "message_value": value,
        **more,
    }


def replayed_at(database_url: str, topic: str, partition: int, offset: int) -> datetime | None:
    (value,) = one_row(
        database_url,
        "SELECT replayed_at FROM live.deadletters"
        " WHERE origin_topic = %s AND origin_partition = %s AND origin_offset = %s",
        topic,
        partition,
        offset,
    )
    return value


def messages_on(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4()}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(
            high - low
            for low, high in (
                consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions
            )
        )
    finally:
        consumer.close()


def read_all(bootstrap: str, topic: str, count: int) -> list[tuple[int, bytes | None, bytes | None, dict]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"probe-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    found: list[tuple[int, bytes | None, bytes | None, dict]] = []

    def all_read() -> bool:
        for message in consumer.consume(num_messages=100, timeout=0.5):
            if message.error() is None:
                found.append(
                    (message.partition(), message.key(), message.value(), dict(message.headers() or []))
                )
        return len(found) >= count

    try:
        wait_for(all_read, timeout=60, what=f"{count} messages on {topic}")
    finally:
        consumer.close()
    return found


def test_list_and_replay_choose_show_and_mark_dead_letters(
    kafka_settings: KafkaSettings, database_url: str
) -> None:
    topic = f"cxa-test-deadletters-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_settings.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(timeout=30)
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers, "DATABASE_URL": database_url}
    now = datetime.now(UTC)
    hostile = b'{"body": "\x00\x1b[31m[bold]red\xff"}'
    too_large = "message of 1,200 bytes is over the limit of 600 (CXA_WORKER_MAX_MESSAGE_BYTES)"
    insert(
        database_url,
        letter(
            (topic, 0, 10),
            "too_large",
            too_large,
            b"K-a",
            hostile,
            dead_lettered_at=now - timedelta(minutes=1),
        ),
        letter(
            (topic, 1, 11),
            "schema",
            "ticket.created.body: Field required",
            b"K-b",
            b'{"b": 1}',
            dead_lettered_at=now - timedelta(hours=3),
        ),
        letter(
            (topic, 1, 12),
            "malformed",
            "Invalid JSON",
            None,
            b"{not json",
            dead_lettered_at=now - timedelta(days=2),
            replayed_at=now - timedelta(minutes=10),
        ),
        letter(
            (topic, 0, 13),
            "too_large",
            too_large,
            b"K-d",
            b"x" * 100,
            value_bytes=5000,
            is_truncated=True,
            dead_lettered_at=now - timedelta(minutes=5),
        ),
        letter(
            (topics.TICKET_EVENTS, 0, 99),
            "schema",
            "priority: Input should be 'low'",
            b"K-f",
            b"{}",
            dead_lettered_at=now - timedelta(seconds=30),
        ),
    )

    listed = cxa(env, "list")
    assert listed.returncode == 0, listed.stderr
    out = listed.stdout
    lines = [line for line in out.splitlines() if "K-" in line]
    assert [line.split("K-")[1][0] for line in lines] == ["f", "a", "d", "b"]  # newest first
    assert "K-c" not in out
    assert "(no key)" not in out
    assert f"{topic}[0]@10" in out
    assert '{"body": "\\x00\\x1b[31m[bold]red�"}' in out  # escaped, replaced, no markup
    assert "\x1b" not in out
    assert "\x00" not in out
    assert "4 dead letters not replayed: schema 2, too_large 2; showing 4" in out

    everything = cxa(env, "list", "--all").stdout
    assert "5 dead letters (1 replayed)" in everything
    (replayed_line,) = [line for line in everything.splitlines() if "(no key)" in line]
    assert replayed_line.rstrip().endswith(f"{now - timedelta(minutes=10):%Y-%m-%d %H:%M:%S}")

    def keys(*args: str) -> list[str]:
        result = cxa(env, "list", *args)
        assert result.returncode == 0, result.stderr
        return sorted(line.split("K-")[1][0] for line in result.stdout.splitlines() if "K-" in line)

    assert keys("--reason", "too_large") == ["a", "d"]  # the kind
    assert keys("--reason", "FIELD REQUIRED") == ["b"]  # part of the reason, any case
    assert keys("--reason", "%") == []  # matched literally
    assert keys("--since", "2h") == ["a", "d", "f"]
    assert keys("--since", (now - timedelta(hours=4)).isoformat(), "--reason", "schema") == ["b", "f"]
    newest = cxa(env, "list", "--limit", "1").stdout
    assert "K-f" in newest
    assert "showing the newest 1" in newest

    dry = cxa(env, "replay", "--origin", topic, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "K-a" in dry.stdout
    assert "K-b" in dry.stdout
    assert "K-f" not in dry.stdout
    assert "would replay 2, skipped 2 (1 already replayed, 1 truncated)" in dry.stdout
    assert f"{topic}[0]@13 (100 of 5,000 bytes kept)" in dry.stdout
    assert messages_on(kafka_settings.bootstrap_servers, topic) == 0
    assert replayed_at(database_url, topic, 0, 10) is None

    replay = cxa(env, "replay", "--origin", topic)
    assert replay.returncode == 0, replay.stderr
    assert "replayed 2, skipped 2 (1 already replayed, 1 truncated)" in replay.stdout
    assert f"{topic}[0]@13" in replay.stdout  # the truncated one, named
    published = read_all(kafka_settings.bootstrap_servers, topic, 2)
    assert sorted(published, key=lambda m: m[1] or b"") == [
        (0, b"K-a", hostile, {REPLAY_OF_HEADER: f"{topic}/0/10".encode()}),
        (1, b"K-b", b'{"b": 1}', {REPLAY_OF_HEADER: f"{topic}/1/11".encode()}),
    ]
    assert replayed_at(database_url, topic, 0, 10) is not None
    assert replayed_at(database_url, topic, 1, 11) is not None
    assert replayed_at(database_url, topic, 0, 13) is None  # truncated: never replayed
    assert replayed_at(database_url, topics.TICKET_EVENTS, 0, 99) is None  # another origin

    again = cxa(env, "replay", "--origin", topic)
    assert again.returncode == 0, again.stderr
    assert "replayed 0, skipped 4 (3 already replayed, 1 truncated)" in again.stdout
    forced = cxa(env, "replay", "--origin", topic, "--reason", "schema", "--again")
    assert "replayed 1, skipped 0" in forced.stdout
    wait_for(lambda: messages_on(kafka_settings.bootstrap_servers, topic) == 3, timeout=30, what="3 messages")

    # Partition 7 does not exist: Kafka refuses, the row stays unreplayed, and the exit code says so.
    insert(database_url, letter((topic, 7, 14), "handler_error", "bug", b"K-g", b"{}", dead_lettered_at=now))
    refused = cxa(env, "replay", "--origin", topic)
    assert refused.returncode == 1, refused.stdout
    assert f"refused: {topic}[7]@14" in refused.stderr
    assert "replayed 0, skipped 4 (3 already replayed, 1 truncated), failed 1" in refused.stdout
    assert replayed_at(database_url, topic, 7, 14) is None


def ticket(ticket_id: str, body: str) -> events.TicketCreated:
    return events.TicketCreated(
        ticket_id=ticket_id,
        occurred_at=datetime.now(UTC),
        customer_id="C1",
        channel=events.Channel.EMAIL,
        priority=events.Priority.HIGH,
        subject="Card blocked",
        body=body,
    )


LIMIT = 1024
"""The worker's message limit in this test: the least CXA_WORKER_MAX_MESSAGE_BYTES takes."""


def test_oversized_tickets_are_listed_replayed_once_and_land_once(
    stack, kafka_settings: KafkaSettings, database_url: str, tmp_path: Path
) -> None:
    seed = uuid.uuid4().hex[:8]
    prefix = f"DL{seed}-"
    group = f"cxa-test-deadletter-{seed}"
    base = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_ROUTING_ENABLED": "false",
        "CXA_WORKER_CATEGORIZER_ENABLED": "false",
    }
    small = [ticket(f"{prefix}small-{i}", "My card is blocked.") for i in range(3)]
    big = [ticket(f"{prefix}big-{i}", f"Statement {i}: " + "line item, " * 150) for i in range(3)]
    assert all(len(events.serialize(e)) < LIMIT for e in small)
    assert all(len(events.serialize(e)) > LIMIT for e in big)
    big_ids = sorted(e.ticket_id for e in big)

    def landed(part: str) -> tuple[int, int]:
        """Rows of this test's tickets in raw (per kind of ticket) and distinct event ids among them."""
        return one_row(
            database_url,
            "SELECT count(*), count(DISTINCT event_id) FROM raw.ticket_events WHERE ticket_id LIKE %s",
            f"{prefix}{part}-%",
        )

    def dead_lettered() -> list[tuple[str, int, int]]:
        with db.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT convert_from(message_key, 'UTF8'), origin_partition, origin_offset"
                " FROM live.deadletters WHERE kind = %s AND convert_from(message_key, 'UTF8') LIKE %s"
                " ORDER BY 1",
                (Refusal.TOO_LARGE.value, f"{prefix}big-%"),
            ).fetchall()
        return [(row[0], row[1], row[2]) for row in rows]

    def caught_up() -> bool:
        return group_lag(kafka_settings, group, topics.TICKET_EVENTS) == 0

    start_at_the_end(stack.bootstrap_servers, group)
    with worker({**base, "CXA_WORKER_MAX_MESSAGE_BYTES": str(LIMIT)}, tmp_path / "worker-1.log"):
        with Publisher(kafka_settings) as publisher:
            for event in small + big:
                publisher.publish(topics.TICKET_EVENTS, event.key, events.serialize(event))
        wait_for(lambda: landed("small") == (3, 3), timeout=120, what="the small tickets in raw")
        wait_for(lambda: len(dead_lettered()) == 3, timeout=60, what="the big tickets dead-lettered")
        wait_for(caught_up, timeout=60, what="the worker to commit its offsets")
        assert landed("big") == (0, 0)

        listed = cxa(base, "list", "--reason", "too_large")
        assert listed.returncode == 0, listed.stderr
        for ticket_id in big_ids:
            assert ticket_id in listed.stdout
        assert "3 dead letters not replayed: too_large 3; showing 3" in listed.stdout
        assert "CXA_WORKER_MAX_MESSAGE_BYTES" in listed.stdout  # the reason

        with ConnectionPool(db.libpq_url(database_url), min_size=1, max_size=1) as pool:
            counts = Warehouse(pool).deadletter_counts()
        assert counts.values.tolist() == [["too_large", 3, 3]]  # the wall board reads the same rows

    originals = {key: offset for key, _, offset in dead_lettered()}
    with worker(base, tmp_path / "worker-2.log"):  # the default limit
        replay = cxa(base, "replay", "--reason", "too_large")
        assert replay.returncode == 0, replay.stderr
        assert "replayed 3, skipped 0 (0 already replayed, 0 truncated)" in replay.stdout
        wait_for(lambda: landed("big") == (3, 3), timeout=120, what="the replayed tickets in raw")
        with db.connect(database_url) as conn:
            sunk = conn.execute(
                "SELECT ticket_id, kafka_offset FROM raw.ticket_events WHERE ticket_id LIKE %s",
                (f"{prefix}big-%",),
            ).fetchall()
        # Read from the replayed copies (later offsets), not from the originals.
        assert all(offset > originals[ticket_id] for ticket_id, offset in sunk)

        again = cxa(base, "replay", "--reason", "too_large")
        assert again.returncode == 0, again.stderr
        assert "replayed 0, skipped 3 (3 already replayed, 0 truncated)" in again.stdout
        forced = cxa(base, "replay", "--reason", "too_large", "--again")
        assert "replayed 3, skipped 0" in forced.stdout
        wait_for(caught_up, timeout=60, what="the worker to consume the second replay")
        assert landed("big") == (3, 3)  # the sink is idempotent by event id
        assert landed("small") == (3, 3)

    shown = cxa(base, "list", "--all", "--reason", "too_large")
    assert "3 dead letters (3 replayed): too_large 3; showing 3" in shown.stdout
    replayed_lines = [line for line in shown.stdout.splitlines() if prefix in line]
    assert len(replayed_lines) == 3
    assert all(WHEN_AT_THE_END.search(line) for line in replayed_lines), shown.stdout  # when replayed
