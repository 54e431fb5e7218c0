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
from cxa.settings import KafkaSettings
from cxa.stack import throwaway_broker
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
    with tempfile.TemporaryDirectory() as tmp, throwaway_broker(Path(tmp), heap="768m") as broker:
        kafka = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers)
        ensure_topics(kafka)
        log.info("simulating %d days and publishing to Kafka", days)
        with Publisher(kafka) as publisher:
            full = backfill(settings, days, publishing(publisher), end=END)
        assert publisher.delivered == full.events
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
