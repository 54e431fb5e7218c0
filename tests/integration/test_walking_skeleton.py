"""End to end on the real broker and database: produce, validate, dead-letter, sink, crash, replay."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from cxa import db, topics
from cxa.kafka import group_lag
from cxa.settings import KafkaSettings
from producers.publisher import Publisher
from tests.integration.processes import wait_for, worker

pytestmark = pytest.mark.integration

N = 3000


def _ticket_rows(database_url: str, prefix: str) -> int:
    with db.connect(database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM raw.ticket_events WHERE ticket_id LIKE %s", (f"{prefix}%",)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _publish_demo_tickets(env: dict[str, str], seed: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "cxa", "produce", "tickets", "-n", str(N), "--seed", str(seed)],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


def _malformed(seed: int) -> dict[str, tuple[str, bytes, str]]:
    """key -> (topic, value, words the dead letter's reason must contain)."""
    created = {
        "event_id": str(uuid.uuid4()),
        "event_type": "ticket.created",
        "schema_version": 1,
        "occurred_at": "2026-01-05T10:00:00+01:00",
        "customer_id": "C1",
        "channel": "email",
        "priority": "high",
        "subject": "Help",
        "body": "My card is blocked.",
    }

    def ticket(key: str, **changes: object) -> bytes:
        document = {**created, "ticket_id": key, **changes}
        return json.dumps({k: v for k, v in document.items() if v is not None}).encode()

    bad = f"bad{seed}"
    return {
        f"{bad}-json": (topics.TICKET_EVENTS, b"{not json", "Invalid JSON"),
        f"{bad}-body": (
            topics.TICKET_EVENTS,
            ticket(f"{bad}-body", body=None),
            "ticket.created.body: Field required",
        ),
        f"{bad}-naive": (
            topics.TICKET_EVENTS,
            ticket(f"{bad}-naive", occurred_at="2026-01-05T10:00:00"),
            "occurred_at: Input should have timezone info",
        ),
        f"{bad}-prio": (
            topics.TICKET_EVENTS,
            ticket(f"{bad}-prio", priority="asap"),
            "ticket.created.priority",
        ),
        f"{bad}-key": (topics.TICKET_EVENTS, ticket("someone-else"), "is not the event's entity id"),
        f"{bad}-extra": (
            topics.TICKET_EVENTS,
            ticket(f"{bad}-extra", mood="angry"),
            "ticket.created.mood: Extra inputs are not permitted",
        ),
        f"{bad}-topic": (topics.AGENT_EVENTS, ticket(f"{bad}-topic"), "ticket.created"),
    }


def _dead_letters(bootstrap: str, keys: set[str]) -> dict[str, tuple[bytes, dict[str, bytes]]]:
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"dlq-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topics.DEADLETTER])
    found: dict[str, tuple[bytes, dict[str, bytes]]] = {}

    def all_found() -> bool:
        for message in consumer.consume(num_messages=500, timeout=0.5):
            if message.error() is None and message.key().decode() in keys:
                found[message.key().decode()] = (message.value(), dict(message.headers() or []))
        return keys <= found.keys()

    try:
        wait_for(all_found, timeout=60, what=f"{len(keys)} dead letters")
    finally:
        consumer.close()
    return found


def test_events_land_once_and_bad_ones_are_dead_lettered(
    stack, kafka_settings: KafkaSettings, database_url: str, tmp_path: Path
) -> None:
    seed = uuid.uuid4().int % 1_000_000
    prefix = f"T{seed}-"
    group = f"cxa-test-{seed}"
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
    }
    malformed = _malformed(seed)
    with Publisher(kafka_settings) as publisher:
        for key, (topic, value, _) in malformed.items():
            publisher.publish(topic, key, value)
    _publish_demo_tickets(env, seed)

    # A worker crashes (SIGKILL) part-way; its successor must lose and duplicate nothing.
    with worker(env, tmp_path / "worker-1.log") as first:
        wait_for(lambda: _ticket_rows(database_url, prefix) > 0, timeout=120, what="the first rows to land")
        first.kill()
    with worker(env, tmp_path / "worker-2.log"):
        wait_for(lambda: _ticket_rows(database_url, prefix) >= N, timeout=120, what=f"{N} ticket rows")
        wait_for(
            lambda: group_lag(kafka_settings, group, topics.TICKET_EVENTS) == 0,
            timeout=60,
            what="the worker to commit its offsets",
        )
        # Redelivery of the very same events (same event ids) adds no rows.
        _publish_demo_tickets(env, seed)
        wait_for(
            lambda: group_lag(kafka_settings, group, topics.TICKET_EVENTS) == 0,
            timeout=60,
            what="the worker to consume the replay",
        )
        assert _ticket_rows(database_url, prefix) == N

    with db.connect(database_url) as conn:
        bad_rows = conn.execute(
            "SELECT count(*) FROM raw.ticket_events WHERE ticket_id LIKE %s", (f"bad{seed}%",)
        ).fetchone()
    assert bad_rows == (0,)

    letters = _dead_letters(stack.bootstrap_servers, set(malformed))
    for key, (topic, value, words) in malformed.items():
        original, headers = letters[key]
        assert original == value, key
        assert words in headers["cxa.error.reason"].decode(), (key, headers)
        assert headers["cxa.origin.topic"].decode() == topic
        assert int(headers["cxa.origin.offset"]) >= 0
    # Recorded once each, although a worker was killed and its successor read some of them again.
    with db.connect(database_url) as conn:
        recorded = conn.execute(
            "SELECT convert_from(message_key, 'UTF8'), kind, count(*) OVER (PARTITION BY message_key)"
            " FROM live.deadletters WHERE message_key LIKE %s",
            (f"bad{seed}%".encode(),),
        ).fetchall()
    kinds = {key: kind for key, kind, _ in recorded}
    assert kinds == {
        f"bad{seed}-json": "malformed",
        f"bad{seed}-body": "schema",
        f"bad{seed}-naive": "schema",
        f"bad{seed}-prio": "schema",
        f"bad{seed}-key": "key_mismatch",
        f"bad{seed}-extra": "schema",
        f"bad{seed}-topic": "wrong_topic",
    }
    assert {copies for _, _, copies in recorded} == {1}
