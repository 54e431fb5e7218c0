"""The full stream pipeline on one worker: sustained throughput and produce-to-row latency.

Workload: a simulated backfill (real ticket texts, agent events, the whole lifecycle) published
first as a backlog. Throughput: `cxa worker` with every agent on (validate, categorize, learn,
floor state, routing, live tables, sink) consuming that backlog, rows per second from its first
committed row to its last; beside it, in the same run, a plain confluent-kafka consume-then-produce
passthrough over the same topic.

Latency: with the worker caught up (every agent has committed the whole backlog), tickets are
published at a fixed rate; for each, the time from its ``occurred_at`` (stamped when it is
published) to the ``ingested_at`` of its row (the inserting transaction's start, a few ms before
commit), and likewise to the ``ingested_at`` of its category prediction's row.
"""

import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.skeleton import _passthrough
from bench.worker_run import landed_rows, landing_rate, running_worker, wait_caught_up
from cxa import db, events, topics
from cxa.kafka import ensure_topics
from cxa.settings import KafkaSettings
from cxa.stack import throwaway_stack
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher
from producers.simulation.runner import backfill, publishing
from producers.simulation.settings import SimulationSettings

log = logging.getLogger(__name__)


_EVENT_ROWS = (
    "SELECT extract(epoch FROM ingested_at - occurred_at) FROM raw.ticket_events WHERE ticket_id LIKE %s"
)
_PREDICTION_ROWS = (
    "SELECT extract(epoch FROM c.ingested_at - e.occurred_at) FROM raw.ticket_categorizations c"
    " JOIN raw.ticket_events e USING (ticket_id) WHERE e.event_type = 'ticket.created' AND ticket_id LIKE %s"
)


def _latencies(database_url: str, query: str, prefix: str) -> list[float]:
    with db.connect(database_url) as conn:
        rows = conn.execute(f"{query} ORDER BY 1", (f"{prefix}%",)).fetchall()
    return [float(row[0]) for row in rows]


def _percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def run(days: int, rate: float, seconds: float) -> list[dict[str, Any]]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        throwaway_stack(Path(tmp), kafka_heap="768m") as (
            broker,
            postgres,
        ),
    ):
        kafka = KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers)
        ensure_topics(kafka)
        postgres.create_database("bench")
        database_url = postgres.url.rsplit("/", 1)[0] + "/bench"
        db.migrate(database_url)
        log.info("publishing %d simulated days as a backlog", days)
        ticket_events = 0
        with Publisher(kafka) as publisher:
            publish = publishing(publisher)

            def count_and_publish(event: events.EventBase) -> None:
                nonlocal ticket_events
                ticket_events += isinstance(event, events.TicketEventBase)
                publish(event)

            end = datetime.now(UTC) - timedelta(hours=1)
            result = backfill(SimulationSettings(), days, count_and_publish, end=end)
        log.info("plain passthrough over %d ticket events", ticket_events)
        passthrough = _passthrough(kafka, ticket_events)
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
            "DATABASE_URL": database_url,
            "CXA_WORKER_APP_ID": "bench-pipeline",
            "CXA_WORKER_DATA_DIR": f"{tmp}/worker",
        }
        worker_log = Path(tmp) / "worker.log"
        with running_worker(env, worker_log) as worker:
            log.info("full pipeline over %d events", result.events)
            sustained, first_row_at = landing_rate(database_url, result.events, worker, worker_log)
            log.info("waiting for every agent to work through the backlog")
            wait_caught_up(kafka, env["CXA_WORKER_APP_ID"])
            every_agent = result.events / (time.perf_counter() - first_row_at)
            log.info("latency at %g events/s for %g s", rate, seconds)
            count = int(rate * seconds)
            started = time.perf_counter()
            with Publisher(kafka, **{"linger.ms": 1}) as probe:
                for number, ticket in enumerate(demo_tickets(count, seed=424242)):
                    time.sleep(max(0.0, started + number / rate - time.perf_counter()))
                    stamped = ticket.model_copy(update={"occurred_at": datetime.now(UTC)})
                    probe.publish(topics.TICKET_EVENTS, stamped.key, events.serialize(stamped))
            deadline = time.monotonic() + 120
            while landed_rows(database_url) < result.events + count and time.monotonic() < deadline:
                time.sleep(0.2)
            wait_caught_up(kafka, env["CXA_WORKER_APP_ID"], timeout=120)  # predictions too
        latencies = _latencies(database_url, _EVENT_ROWS, "T424242-")
        predicted = _latencies(database_url, _PREDICTION_ROWS, "T424242-")
    return [
        {
            "measure": "plain passthrough (consume+produce)",
            "events": ticket_events,
            "events_per_s": passthrough,
            "p50_ms": "",
            "p99_ms": "",
        },
        {
            "measure": "full pipeline, one worker (backlog): rows in PostgreSQL",
            "events": result.events,
            "events_per_s": sustained,
            "p50_ms": "",
            "p99_ms": "",
        },
        {
            "measure": "full pipeline, one worker (backlog): every agent done",
            "events": result.events,
            "events_per_s": every_agent,
            "p50_ms": "",
            "p99_ms": "",
        },
        {
            "measure": f"produce to row committed at {rate:g}/s",
            "events": len(latencies),
            "events_per_s": rate,
            "p50_ms": 1000 * _percentile(latencies, 0.5),
            "p99_ms": 1000 * _percentile(latencies, 0.99),
        },
        {
            "measure": f"produce to prediction committed at {rate:g}/s",
            "events": len(predicted),
            "events_per_s": rate,
            "p50_ms": 1000 * _percentile(predicted, 0.5),
            "p99_ms": 1000 * _percentile(predicted, 0.99),
        },
    ]
