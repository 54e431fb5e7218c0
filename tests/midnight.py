"""A pytest plugin that starts every test half a second before midnight UTC, the clock ticking, so
each one crosses midnight: ``pytest -p tests.midnight tests/unit``. A test that computes "today"
twice, or compares a date with the wall clock's, fails under it.

It fakes this process's clock only (time-machine): the integration tests' Kafka, PostgreSQL and
subprocesses keep the machine's, so run those across a real midnight instead.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine

BEFORE_MIDNIGHT = timedelta(seconds=0.5)


def _moment() -> datetime:
    """Half a second before the coming midnight UTC."""
    tomorrow = datetime.now(UTC).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=UTC) - BEFORE_MIDNIGHT


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    with time_machine.travel(_moment(), tick=True):  # setup, call and teardown
        yield
