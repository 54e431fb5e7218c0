"""Two workers in one consumer group: every event lands once, and the floor survives a rebalance."""

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cxa import events
from producers.simulation.runner import backfill
from producers.simulation.settings import SimulationSettings
from tests.integration.processes import one_row, wait_for, worker

pytestmark = pytest.mark.integration

# A fixed end, so the history the CLI publishes and the one the test expects are the same on any day.
END = datetime(2026, 3, 2, tzinfo=UTC)


def _backfill(env: dict[str, str], seed: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cxa", "simulate", "backfill", "--days", "2", "--end", f"{END:%Y-%m-%d}"],
        env={**os.environ, **env, "CXA_SIM_SEED": str(seed)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _tickets(url: str, seed: int) -> int:
    return int(
        one_row(url, "SELECT count(*) FROM raw.ticket_events WHERE ticket_id LIKE %s", f"T{seed}-%")[0]
    )


def _expected_tickets(seed: int) -> int:
    emitted: list[events.EventBase] = []
    settings = SimulationSettings(seed=seed, customers=300, agents=12, tickets_per_day=400)
    backfill(settings, 2, emitted.append, end=END)
    return sum(isinstance(e, events.TicketEventBase) for e in emitted)


def test_two_workers_share_the_work_and_a_third_takes_over(stack, database_url: str, tmp_path: Path) -> None:
    group = f"cxa-scale-{uuid.uuid4().hex[:8]}"
    base = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_CATEGORIZER_ENABLED": "false",
        "CXA_SIM_CUSTOMERS": "300",
        "CXA_SIM_AGENTS": "12",
        "CXA_SIM_TICKETS_PER_DAY": "400",
    }
    seeds = [300_000 + uuid.uuid4().int % 100_000 + n for n in (0, 1)]
    expected = {seed: _expected_tickets(seed) for seed in seeds}

    def worker_env(name: str) -> dict[str, str]:
        return {**base, "CXA_WORKER_DATA_DIR": str(tmp_path / name)}

    with worker(worker_env("a"), tmp_path / "a.log") as a, worker(worker_env("b"), tmp_path / "b.log") as b:
        _backfill(base, seeds[0])
        wait_for(lambda: _tickets(database_url, seeds[0]) > 0, timeout=120, what="the first rows")
        a.send_signal(signal.SIGKILL)  # mid-stream: b takes a's partitions over
        _backfill(base, seeds[1])
        for seed, count in expected.items():
            wait_for(
                lambda seed=seed, count=count: _tickets(database_url, seed) >= count,
                timeout=240,
                what=f"{count} ticket events of seed {seed}",
            )
        with worker(worker_env("c"), tmp_path / "c.log"):
            b.send_signal(signal.SIGKILL)  # c is left with every partition, the floor's among them
            killed_at = one_row(database_url, "SELECT now()")[0]
            # c restored the floor from its changelog: it knows every agent and their capacity.
            wait_for(
                lambda: (
                    one_row(
                        database_url,
                        "SELECT count(*), min(capacity) > 0, min(updated_at) > %s"
                        " FROM live.agent_load WHERE agent_id = ANY(%s)",
                        killed_at,
                        [f"A{n:04d}" for n in range(12)],
                    )
                    == (12, True, True)
                ),
                timeout=120,
                what="the floor, restored on the third worker, to know every agent",
            )
    for seed, count in expected.items():  # every event exactly once
        assert _tickets(database_url, seed) == count
