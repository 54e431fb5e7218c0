"""Run `cxa worker` as a real process for a benchmark and time how fast rows land in PostgreSQL."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxa import db, topics
from cxa.kafka import topic_lags
from cxa.settings import KafkaSettings


def landed_rows(database_url: str) -> int:
    with db.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM raw.ticket_events) + (SELECT count(*) FROM raw.agent_events)"
        ).fetchone()
    return int(row[0]) if row else 0


@contextmanager
def running_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "cxa", "worker", "--log-level", "warning"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(60)
        except subprocess.TimeoutExpired:
            worker.kill()


def landing_rate(
    database_url: str, expected: int, worker: subprocess.Popen[bytes], log: Path
) -> tuple[float, float]:
    """Rows per second from the first landed row to the last (worker start-up is not counted), and
    the ``time.perf_counter()`` at which the first row was seen."""
    deadline = time.monotonic() + 900
    first: tuple[float, int] | None = None
    while (landed := landed_rows(database_url)) < expected:
        if time.monotonic() > deadline or worker.poll() is not None:
            raise RuntimeError(f"the worker stalled at {landed} of {expected} rows; see {log}")
        if landed and first is None:
            first = (time.perf_counter(), landed)
        time.sleep(0.05)
    finished = time.perf_counter()
    assert first is not None, "every row landed before the first poll: measure more events"
    return (expected - first[1]) / (finished - first[0]), first[0]


def worker_topics(app_id: str) -> list[str]:
    """Every topic a full worker consumes: the sources and its internal topics (predictions go
    straight to the floor topic; tickets.categorized is for other readers)."""
    return [
        *topics.SOURCE_TOPICS,
        topics.floor_topic(app_id),
        topics.categorizer_tickets_topic(app_id),
        topics.categorizer_labels_topic(app_id),
    ]


def wait_caught_up(kafka: KafkaSettings, app_id: str, timeout: float = 600) -> None:
    """Until the worker has committed everything on every topic it reads (not only the sink's rows:
    the floor and the categorizer may still be working through a backlog). The floor topic also
    gets a tick a second, which may sit uncommitted for a moment: up to two of those are allowed."""
    deadline = time.monotonic() + timeout
    floor = topics.floor_topic(app_id)

    def lag() -> int:
        lags = topic_lags(kafka, app_id, *worker_topics(app_id))
        return sum(lags.values()) - min(lags[floor], 2)

    while (behind := lag()) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the worker still lags {behind} messages after {timeout:g} s")
        time.sleep(0.2)
