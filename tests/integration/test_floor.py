"""Closed loop on the real broker and database: the simulator runs live, the worker keeps the floor,
routes its waiting tickets, and the wall board's live tables follow."""

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cxa.kafka import ensure_topics
from cxa.settings import KafkaSettings, StackSettings
from cxa.stack import throwaway_broker
from tests.integration.processes import flat_shape, one_row, wait_for, worker

pytestmark = pytest.mark.integration


@pytest.fixture
def own_broker(tmp_path_factory: pytest.TempPathFactory, stack_settings: StackSettings) -> Iterator[str]:
    """A broker of this test's own: tickets left waiting by other tests would otherwise be the most
    urgent on the floor, and this test is about live tickets only."""
    with throwaway_broker(tmp_path_factory.mktemp("broker"), stack_settings, heap="384m") as broker:
        ensure_topics(KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap_servers))
        yield broker.bootstrap_servers


def test_the_router_assigns_live_tickets_and_the_board_is_fresh(
    own_broker: str, database_url: str, tmp_path: Path
) -> None:
    seed = 200_000 + uuid.uuid4().int % 100_000
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": own_broker,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": f"cxa-floor-{seed}",
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_CATEGORIZER_ENABLED": "false",
        # The simulation runs 30x faster than the wall clock, so its events are dated hours ahead.
        "CXA_WORKER_MAX_CLOCK_SKEW_SECONDS": "86400",
        "CXA_SIM_SEED": str(seed),
        "CXA_SIM_CUSTOMERS": "500",
        "CXA_SIM_AGENTS": "40",
        "CXA_SIM_TICKETS_PER_DAY": "30000",
        "CXA_SIM_SHIFT_STARTS": "[0, 4, 8, 12, 16, 20]",
        "CXA_SIM_ROUTE_TIMEOUT_SECONDS": "300",
        "CXA_SIM_SHAPE_PATH": str(flat_shape(tmp_path)),  # live tickets at any hour
    }
    prefix = f"L{seed}.%"
    with worker(env, tmp_path / "worker.log"):
        simulator = subprocess.Popen(
            [sys.executable, "-m", "cxa", "simulate", "live", "--speed", "30", "--minutes", "240"],
            env=env,
            stdout=(tmp_path / "sim.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(
                lambda: (
                    one_row(
                        database_url,
                        "SELECT count(*) FROM raw.ticket_events WHERE event_type ="
                        " 'ticket.assigned' AND ticket_id LIKE %s AND payload->>'policy' LIKE"
                        " 'router:%%'",
                        prefix,
                    )[0]
                    >= 5
                ),
                timeout=240,
                what="five live tickets assigned by the router",
            )
            # Stamped with the wall clock although the simulation runs hours ahead of it. One board,
            # read in one statement, so its tables agree with each other.
            wait_for(
                lambda: (
                    one_row(
                        database_url,
                        "SELECT count(*) FROM live.floor_summary WHERE agents_online > 0"
                        " AND updated_at BETWEEN now() - interval '3 seconds' AND now()"
                        " AND waiting = (SELECT coalesce(sum(waiting), 0) FROM live.queue_depth)"
                        " AND least(at_risk, 500) = (SELECT count(*) FROM live.sla_at_risk)",
                    )[0]
                    == 1
                ),
                timeout=30,
                what="a fresh wall board whose queues and tickets at risk add up",
            )
            # Whether a ticket is within 30 minutes of its target at a given moment depends on the
            # live traffic of that moment (pending tickets' clocks stop): wait for one.
            wait_for(
                lambda: (
                    one_row(database_url, "SELECT count(*) FROM live.sla_at_risk WHERE minutes_left < 30")[0]
                    > 0
                ),
                timeout=120,
                what="a ticket within 30 minutes of its first-reply target on the board",
            )
        finally:
            simulator.terminate()
            simulator.wait(timeout=60)
    decisions = one_row(
        database_url,
        "SELECT count(*), min(solver_ms) >= 0, bool_and(score_parts ? 'skill')"
        " FROM raw.routing_decisions WHERE ticket_id LIKE %s",
        prefix,
    )
    assert decisions[0] >= 5
    assert decisions[1:] == (True, True)
    agents = one_row(database_url, "SELECT count(*), sum(capacity) FROM live.agent_load")
    assert agents[0] == 40  # a broker and a database of its own: the simulator's agents only
    assert agents[1] > 0
    feed = one_row(database_url, "SELECT count(*) FROM live.routing_feed")
    assert feed[0] >= 5
