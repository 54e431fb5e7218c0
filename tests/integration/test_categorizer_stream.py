"""The categorizer in a real worker on the real broker and database: predict, learn, checkpoint."""

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from cxa import db, events, topics
from cxa.settings import KafkaSettings
from producers.publisher import Publisher
from tests.integration.processes import start_at_the_end, wait_for, worker

pytestmark = pytest.mark.integration

TEXTS = {
    "card_arrival": [
        "my card has still not arrived",
        "when will my new card be delivered",
        "card not here yet",
    ],
    "transfer_failed": [
        "my transfer failed",
        "the bank transfer did not go through",
        "why did my transfer fail",
    ],
}


def _count(database_url: str, sql: str) -> int:
    with db.connect(database_url) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def test_worker_categorizes_learns_from_confirmations_and_checkpoints(
    stack, kafka_settings: KafkaSettings, database_url: str, tmp_path: Path
) -> None:
    seed = uuid.uuid4().hex[:8]
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": f"cxa-cat-{seed}",
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_CATEGORIZER_CHECKPOINT_SECONDS": "1",
        "CXA_WORKER_CATEGORIZER_RELOAD_SECONDS": "1",
        "CXA_WORKER_ROUTING_ENABLED": "false",
    }
    now = datetime.now(UTC) - timedelta(days=2)  # a history replayed: tickets older than the answers
    created, labels = [], []
    for round_ in range(4):
        for category, texts in TEXTS.items():
            for i, text in enumerate(texts):
                ticket_id = f"C{seed}-{round_}-{category}-{i}"
                created.append(
                    events.TicketCreated(
                        ticket_id=ticket_id,
                        occurred_at=now,
                        customer_id="C1",
                        channel="chat",
                        priority="normal",
                        subject="Help",
                        body=text,
                    )
                )
                labels.append(
                    events.TicketCategoryConfirmed(
                        ticket_id=ticket_id, occurred_at=now, agent_id="A1", category=category
                    )
                )
    start_at_the_end(stack.bootstrap_servers, env["CXA_WORKER_APP_ID"])  # this test's events only
    with Publisher(kafka_settings) as publisher:
        for created_event, label in zip(created, labels, strict=True):
            publisher.publish(topics.TICKET_EVENTS, created_event.key, events.serialize(created_event))
            publisher.publish(topics.TICKET_EVENTS, label.key, events.serialize(label))

    consumer = Consumer(
        {
            "bootstrap.servers": stack.bootstrap_servers,
            "group.id": f"probe-{seed}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topics.TICKETS_CATEGORIZED])
    mine = {event.ticket_id for event in created}
    seen: dict[str, events.CategoryPredicted] = {}

    def all_predicted() -> bool:
        for message in consumer.consume(num_messages=500, timeout=0.5):
            if message.error() is None and message.key().decode() in mine:
                seen[message.key().decode()] = events.PREDICTED_ADAPTER.validate_json(message.value())
        return mine <= seen.keys()

    try:
        with worker(env, tmp_path / "worker.log"):
            wait_for(all_predicted, timeout=180, what="a prediction for every created ticket")
            wait_for(
                lambda: (
                    _count(database_url, "SELECT max(examples_learned) FROM live.categorizer_checkpoints")
                    >= len(labels)
                ),
                timeout=120,
                what="a checkpoint that learnt every confirmation",
            )
            wait_for(
                lambda: (
                    _count(database_url, "SELECT coalesce(max(labelled), 0) FROM live.categorizer_quality")
                    >= len(labels)
                ),
                timeout=60,
                what="quality figures for every confirmation",
            )
    finally:
        consumer.close()

    with db.connect(database_url) as conn:
        predicted = conn.execute(
            "SELECT count(*), count(DISTINCT ticket_id) FROM raw.ticket_categorizations"
            " WHERE ticket_id = ANY(%s)",
            (sorted(mine),),
        ).fetchone()
        times = conn.execute(
            "SELECT ticket_created_at, predicted_at FROM raw.ticket_categorizations"
            " WHERE ticket_id = ANY(%s)",
            (sorted(mine),),
        ).fetchall()
        categories = dict(
            conn.execute(
                "SELECT category, true_positives + false_negatives FROM live.categorizer_categories"
            ).fetchall()
        )
    assert predicted == (len(created), len(created))
    # Each answer keeps its ticket's time beside its own, and the marts date it by the ticket.
    assert {ticket_created_at for ticket_created_at, _ in times} == {now}
    assert all(predicted_at > now + timedelta(days=1) for _, predicted_at in times)
    assert {p.ticket_created_at for p in seen.values()} == {now}
    # The worker read this test's events only: every label learnt once, and counted once.
    learned = _count(database_url, "SELECT max(examples_learned) FROM live.categorizer_checkpoints")
    labelled = _count(database_url, "SELECT max(labelled) FROM live.categorizer_quality")
    assert (learned, labelled) == (len(labels), len(labels))
    assert categories == {category: len(labels) // len(TEXTS) for category in TEXTS}
