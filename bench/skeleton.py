"""Producer throughput and walking-skeleton end-to-end throughput, beside a plain passthrough.

All three move the same N ticket-created events on the same throwaway broker:
- producer: serialise and publish N events with the idempotent producer until all are acknowledged;
- passthrough: a plain confluent-kafka loop that consumes the N events and produces each to another
  topic (the floor any Python consumer-producer can reach here);
- skeleton: `cxa worker` consuming the N events (validate, sink into raw.ticket_events); timed from
  its first committed row to its last, so worker start-up is not counted.
"""

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, Producer

from bench.worker_run import landing_rate, running_worker
from cxa import db, events, topics
from cxa.kafka import ensure_topics, producer_config
from cxa.settings import KafkaSettings
from cxa.stack import throwaway_stack
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher

log = logging.getLogger(__name__)


def _publish(kafka: KafkaSettings, count: int) -> float:
    tickets = list(demo_tickets(count, seed=1))
    started = time.perf_counter()
    with Publisher(kafka) as publisher:
        for event in tickets:
            publisher.publish(topics.TICKET_EVENTS, event.key, events.serialize(event))
    return count / (time.perf_counter() - started)


def _passthrough(kafka: KafkaSettings, count: int) -> float:
    consumer = Consumer(
        {
            "bootstrap.servers": kafka.bootstrap_servers,
            "group.id": "bench-passthrough",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": True,
        }
    )
    producer = Producer(producer_config(kafka))
    consumer.subscribe([topics.TICKET_EVENTS])
    seen = 0
    started = None
    while seen < count:
        for message in consumer.consume(num_messages=1000, timeout=1.0):
            if message.error():
                continue
            started = started or time.perf_counter()
            producer.produce("bench.passthrough", value=message.value(), key=message.key())
            producer.poll(0)
            seen += 1
    producer.flush(60)
    consumer.close()
    assert started is not None
    return count / (time.perf_counter() - started)


def _skeleton(kafka: KafkaSettings, database_url: str, count: int, workdir: Path) -> float:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": "bench-skeleton",
        "CXA_WORKER_DATA_DIR": str(workdir / "worker"),
        # the walking skeleton only: validate and sink
        "CXA_WORKER_CATEGORIZER_ENABLED": "false",
        "CXA_WORKER_ROUTING_ENABLED": "false",
    }
    log = workdir / "worker.log"
    with running_worker(env, log) as worker:
        return landing_rate(database_url, count, worker, log)[0]


def run(count: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp, throwaway_stack(Path(tmp)) as (broker, postgres):
        kafka = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers)
        ensure_topics(kafka)
        postgres.create_database("bench")
        database_url = postgres.url.rsplit("/", 1)[0] + "/bench"
        db.migrate(database_url)
        log.info("publishing %d events", count)
        produce_rate = _publish(kafka, count)
        log.info("plain passthrough of %d events", count)
        passthrough_rate = _passthrough(kafka, count)
        log.info("walking skeleton (worker -> Postgres) on %d events", count)
        skeleton_rate = _skeleton(kafka, database_url, count, Path(tmp))
    return [
        {"measure": "producer (idempotent, acks=all)", "events_per_s": produce_rate, "ratio": 1.0},
        {"measure": "plain passthrough (consume+produce)", "events_per_s": passthrough_rate, "ratio": 1.0},
        {
            "measure": "skeleton end to end (validate+sink)",
            "events_per_s": skeleton_rate,
            "ratio": skeleton_rate / passthrough_rate,
        },
    ]
