"""Shared fixtures. Integration tests get a throwaway real Kafka and PostgreSQL for the session.

Set CXA_TEST_REUSE_STACK=1 to run against the services named by KAFKA_BOOTSTRAP_SERVERS and
DATABASE_URL instead (each test still gets a database of its own).

Property tests draw the same examples on every run, so a run passes or fails on the code alone.
CXA_TEST_HYPOTHESIS=explore draws new random examples on each run, to look for new failures.
"""

import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy.engine import make_url

from cxa import db
from cxa.kafka import ensure_topics
from cxa.settings import KafkaSettings, StackSettings
from cxa.stack import throwaway_stack

ROOT = Path(__file__).resolve().parents[1]

settings.register_profile("deterministic", derandomize=True, database=None)
settings.register_profile("explore", database=None)
settings.load_profile(os.environ.get("CXA_TEST_HYPOTHESIS", "deterministic"))


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM unwinds like Ctrl-C, so the session's throwaway Kafka and PostgreSQL are stopped.
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@dataclass(frozen=True)
class Stack:
    bootstrap_servers: str
    admin_url: str

    def database_url(self, name: str) -> str:
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def stack_settings() -> StackSettings:
    """The stack's settings, with a relative cache folder taken from the repository's root."""
    cache = StackSettings().cache_dir
    return StackSettings(CXA_CACHE_DIR=cache if cache.is_absolute() else ROOT / cache)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, stack_settings: StackSettings) -> Iterator[Stack]:
    if os.environ.get("CXA_TEST_REUSE_STACK") == "1":
        yield Stack(KafkaSettings().bootstrap_servers, os.environ["DATABASE_URL"])
        return
    with throwaway_stack(tmp_path_factory.mktemp("stack"), stack_settings, kafka_heap="384m") as (
        broker,
        postgres,
    ):
        ensure_topics(KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers))
        yield Stack(broker.bootstrap_servers, postgres.url)


@pytest.fixture
def kafka_settings(stack: Stack) -> KafkaSettings:
    return KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers)


@pytest.fixture
def database_url(stack: Stack) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with db.connect(stack.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = stack.database_url(name)
    db.migrate(url)
    try:
        yield url
    finally:
        with db.connect(stack.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
