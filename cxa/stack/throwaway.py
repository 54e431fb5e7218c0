"""A short-lived stack on free ports, for tests and benchmarks; stopped when the block ends."""

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxa.settings import StackSettings
from cxa.stack.kafka import KafkaBroker
from cxa.stack.postgres import PostgresCluster


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def throwaway_broker(
    home: Path, settings: StackSettings | None = None, heap: str = "512m"
) -> Iterator[KafkaBroker]:
    """A Kafka broker under ``home / "kafka"`` on free ports; the jars come from the shared cache."""
    settings = settings or StackSettings()
    broker = KafkaBroker(
        home=home / "kafka",
        cache_dir=settings.cache_dir.resolve(),
        version=settings.kafka_version,
        port=free_port(),
        controller_port=free_port(),
        heap=heap,
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


@contextmanager
def throwaway_stack(
    home: Path, settings: StackSettings | None = None, kafka_heap: str = "512m"
) -> Iterator[tuple[KafkaBroker, PostgresCluster]]:
    """Kafka and PostgreSQL under ``home``, on free ports; the Kafka jars come from the shared cache."""
    settings = settings or StackSettings()
    postgres = PostgresCluster(
        home=home, bin_dir=settings.postgres_bin_dir, port=free_port(), database="postgres"
    )
    with throwaway_broker(home, settings, kafka_heap) as broker:
        try:
            postgres.start()
            yield broker, postgres
        finally:
            postgres.stop()
            shutil.rmtree(postgres.data_dir, ignore_errors=True)  # may lie outside ``home``
