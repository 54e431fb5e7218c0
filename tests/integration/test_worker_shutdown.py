"""A worker stops promptly on SIGTERM or SIGINT, even while it retries a batch PostgreSQL cannot take,
and the batch it gave up is not lost: the next worker of the group takes it again."""

import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from cxa import events, topics
from cxa.settings import KafkaSettings
from cxa.stack import free_port
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher
from tests.integration.processes import one_row, start_at_the_end, wait_for, worker

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_worker_retrying_with_postgresql_down_stops_within_ten_seconds_and_loses_nothing(
    stack, kafka_settings: KafkaSettings, database_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    group = f"cxa-shutdown-{uuid.uuid4().hex[:8]}"
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": f"postgresql://cxa@127.0.0.1:{free_port()}/nowhere",  # nothing listens there
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_RETRY_MAX_SECONDS": "60",
    }
    log = tmp_path / "worker.log"
    start_at_the_end(stack.bootstrap_servers, group)  # the batch in progress is this test's tickets
    seed = uuid.uuid4().int % 1_000_000
    with Publisher(kafka_settings) as publisher:
        tickets = list(demo_tickets(5, seed=seed))
        for ticket in tickets:
            publisher.publish(topics.TICKET_EVENTS, ticket.key, events.serialize(ticket))
    with worker(env, log) as process:
        wait_for(
            lambda: "writing to PostgreSQL failed" in log.read_text(errors="replace"),
            timeout=120,
            what="the worker to retry its batch",
        )
        process.send_signal(stop)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker was still running 10 s after {stop.name}")

    # The batch was never in PostgreSQL, so its offsets must not have been committed on the way out.
    with worker({**env, "DATABASE_URL": database_url}, tmp_path / "restarted.log"):
        wait_for(
            lambda: (
                one_row(
                    database_url,
                    "SELECT count(*) FROM raw.ticket_events WHERE event_id = ANY(%s)",
                    [ticket.event_id for ticket in tickets],
                )[0]
                == len(tickets)
            ),
            timeout=90,
            what="the restarted worker to land the batch the stopped one gave up",
        )
