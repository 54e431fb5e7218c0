"""A simulated backfill lands in PostgreSQL through the worker: every event, exactly once."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cxa import db, events
from producers.simulation.runner import backfill
from producers.simulation.settings import SimulationSettings
from tests.integration.processes import wait_for, worker

pytestmark = pytest.mark.integration

# A fixed end, so the history the CLI publishes and the one the test expects are the same on any day.
END = datetime(2026, 3, 2, tzinfo=UTC)


def _count(url: str, table: str, seed: int) -> int:
    column = "ticket_id" if table == "raw.ticket_events" else "event_id"
    pattern = f"T{seed}-%" if table == "raw.ticket_events" else "%"
    with db.connect(url) as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {table} WHERE {column}::text LIKE %s", (pattern,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_backfill_lands_in_postgres_through_the_worker(stack, database_url: str, tmp_path: Path) -> None:
    seed = 1000 + uuid.uuid4().int % 100_000
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_SIM_SEED": str(seed),
        "CXA_SIM_CUSTOMERS": "500",
        "CXA_SIM_AGENTS": "12",
        "CXA_WORKER_APP_ID": f"cxa-backfill-{seed}",
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "cxa", "simulate", "backfill", "--days", "3", "--end", f"{END:%Y-%m-%d}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "loaded 500 customers and 12 agents" in result.stdout

    expected: list[events.EventBase] = []
    settings = SimulationSettings(seed=seed, customers=500, agents=12)
    backfill(settings, 3, expected.append, end=END)
    tickets = sum(isinstance(e, events.TicketEventBase) for e in expected)
    assert tickets > 500

    with worker(env, tmp_path / "worker.log"):
        wait_for(
            lambda: _count(database_url, "raw.ticket_events", seed) >= tickets,
            timeout=180,
            what=f"{tickets} ticket events",
        )
    assert _count(database_url, "raw.ticket_events", seed) == tickets
    with db.connect(database_url) as conn:
        customers = conn.execute("SELECT count(*) FROM raw.customers").fetchone()
        agents = conn.execute("SELECT count(*), min(capacity) FROM raw.agents").fetchone()
        firsts = conn.execute(
            "SELECT count(*) FROM raw.ticket_events e WHERE event_type = 'ticket.created' AND"
            " e.ticket_id LIKE %s AND EXISTS (SELECT 1 FROM raw.ticket_events x WHERE"
            " x.ticket_id = e.ticket_id AND x.occurred_at < e.occurred_at)",
            (f"T{seed}-%",),
        ).fetchone()
    assert customers == (500,)
    assert agents is not None
    assert agents[0] == 12
    assert agents[1] >= 1
    assert firsts == (0,)  # nothing of a ticket happens before it is created
