"""Backfill throughput: simulate a year of a mid-size centre and publish it to a real broker.

Reports the simulation alone (events generated per second, nothing published) and the full
backfill (simulate, serialise, publish with the idempotent producer until every delivery is
acknowledged), with peak memory of this process.
"""

import logging
import resource
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxa.kafka import ensure_topics
from cxa.settings import KafkaSettings, StackSettings
from cxa.stack import KafkaBroker, free_port
from producers.publisher import Publisher
from producers.simulation.runner import backfill, publishing
from producers.simulation.settings import SimulationSettings

log = logging.getLogger(__name__)
END = datetime(2026, 1, 1, tzinfo=UTC)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(days: int) -> list[dict[str, Any]]:
    settings = SimulationSettings()
    log.info("simulating %d days without publishing", days)
    counted = [0]

    def count(_: object) -> None:
        counted[0] += 1

    alone = backfill(settings, days, count, end=END)
    rows = [
        {
            "measure": "simulation only",
            "days": days,
            "tickets": alone.tickets,
            "events": alone.events,
            "seconds": alone.seconds,
            "events_per_s": alone.events / alone.seconds,
            "peak_rss_mb": _peak_mb(),
        }
    ]
    stack = StackSettings()
    with tempfile.TemporaryDirectory() as tmp:
        broker = KafkaBroker(
            home=Path(tmp) / "kafka",
            cache_dir=stack.cache_dir.resolve(),
            version=stack.kafka_version,
            port=free_port(),
            controller_port=free_port(),
            heap="768m",
        )
        broker.start()
        try:
            kafka = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers)
            ensure_topics(kafka)
            log.info("simulating %d days and publishing to Kafka", days)
            with Publisher(kafka) as publisher:
                full = backfill(settings, days, publishing(publisher), end=END)
            assert publisher.delivered == full.events
        finally:
            broker.stop()
    rows.append(
        {
            "measure": "backfill to Kafka (acks=all, idempotent)",
            "days": days,
            "tickets": full.tickets,
            "events": full.events,
            "seconds": full.seconds,
            "events_per_s": full.events / full.seconds,
            "peak_rss_mb": _peak_mb(),
        }
    )
    return rows
