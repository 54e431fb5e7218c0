"""Run cxa commands as real processes, poll for their effects with bounded waits, read them back."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from cxa import db, topics
from cxa.stack import KafkaBroker
from cxa.stack.kafka import HOST
from cxa.stack.waiting import port_is_open

T = TypeVar("T")


def one_row(url: str, sql: str, *params: object) -> tuple[Any, ...]:
    """The first row ``sql`` returns (the test fails if there is none)."""
    with db.connect(url) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None, f"no row for: {sql}"
    return tuple(row)


def flat_shape(folder: Path) -> Path:
    """An arrival shape as busy at any hour and on any day, for a live simulation: the shipped one
    is near zero on weekend nights, when a test would wait in vain for live tickets."""
    path = folder / "flat_shape.json"
    flat = {
        "weekday": [1.0] * 7,
        "month": [1.0] * 12,
        "holiday": 1.0,
        "daily_cv": 0.1,
        "intraday": [1 / 24] * 24,
    }
    path.write_text(json.dumps(flat))
    return path


def wait_for(probe: Callable[[], T], *, timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A `cxa worker` process, stopped with SIGTERM on exit unless already dead. A worker still
    running 20 s later is killed, and the test fails (unless it is failing already)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cxa", "worker"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    hung = False
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                hung = True
                process.kill()
                process.wait()
    if hung:
        raise AssertionError(f"the worker did not stop within 20 s of SIGTERM (its log: {log})")


def kill_broker(broker: KafkaBroker) -> None:
    """``kill -9`` the broker: no clean shutdown, so its next :meth:`KafkaBroker.start` (same ports,
    same data) recovers its logs as after a power cut."""
    pid = broker.pid()
    assert pid is not None, "the broker is not running"
    os.kill(pid, signal.SIGKILL)
    wait_for(
        lambda: broker.pid() is None and not port_is_open(HOST, broker.port),
        timeout=30,
        what="the killed broker to be gone",
    )


def start_at_the_end(bootstrap: str, group: str) -> None:
    """Commit the consumer group's offsets at the end of the source topics, so that its worker reads
    only this test's events, not what other tests left on the shared broker ."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10).topics
        ends = [
            TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1])
            for topic in topics.SOURCE_TOPICS
            for p in metadata[topic].partitions
        ]
        # A broker just started may not have loaded the group's coordinator yet: a retriable error.
        wait_for(lambda: _committed(consumer, ends), timeout=60, what=f"the offsets of group {group}")
    finally:
        consumer.close()


_COORDINATOR_LOADING = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
}


def _committed(consumer: Consumer, offsets: list[TopicPartition]) -> bool:
    try:
        consumer.commit(offsets=offsets, asynchronous=False)
    except KafkaException as exc:
        error = exc.args[0]
        if error.retriable() or error.code() in _COORDINATOR_LOADING:
            return False
        raise
    return True
