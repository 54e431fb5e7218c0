"""`cxa reference import` on exports, with real PostgreSQL, Kafka and worker: raw, agents.events, router."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from cxa import db
from cxa.events import AgentStatus, AgentStatusChanged, Channel, Priority, TicketCreated, serialize
from cxa.settings import KafkaSettings
from cxa.topics import AGENT_EVENTS, TICKET_EVENTS
from producers.publisher import Publisher
from tests.integration.processes import one_row, start_at_the_end, wait_for, worker

pytestmark = pytest.mark.integration


def cxa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxa", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_exported_agents_and_customers_land_in_raw_and_the_router_uses_them(
    stack, database_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:6]
    german, english = f"{run}01", f"{run}02"
    # A Zendesk user export, with the columns an admin added for routing.
    agents = tmp_path / "agents.csv"
    agents.write_text(
        "id,name,email,group,locale,skills,max_tickets,shift,days\n"
        f"{german},Lena Weber,lena@example.com,DACH,de,billing:0.9,3,08:00,Mon-Fri\n"
        f"{english},Sam Park,sam@example.com,Global,en-US,billing:0.7,2,,\n",
        encoding="utf-8",
    )
    customers = tmp_path / "customers.csv"
    customers.write_text(f"id,organization,locale\n{run}50,Acme,en-GB\n", encoding="utf-8")
    env = {"DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers}
    group = f"cxa-reference-{run}"
    start_at_the_end(stack.bootstrap_servers, group)
    args = (
        "reference", "import", "--vendor", "zendesk", "--agents", str(agents), "--customers", str(customers),
        "--map", "agent_id=id", "--map", "customer_id=id", "--map", "team=group", "--map", "languages=locale",
        "--map", "language=locale", "--map", "segment=organization", "--map", "capacity=max_tickets",
        "--map", "shift_start=shift", "--map", "work_days=days",
    )  # fmt: skip

    imported = cxa(*args, env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "loaded 2 agents into raw.agents and 1 customers into raw.customers" in imported.stdout
    assert "announced 2 agents on agents.events" in imported.stdout
    again = cxa(*args, env=env)  # safe to repeat
    assert again.returncode == 0, again.stdout + again.stderr
    # A slimmer export later (no group, shift or days columns) keeps what the first one said.
    slim = tmp_path / "slim.csv"
    slim.write_text(
        f"id,name,skills,max_tickets,locale\n{german},Lena Weber,billing:0.9,3,de\n", encoding="utf-8"
    )
    slimmer = ("reference", "import", "--vendor", "zendesk", "--agents", str(slim), "--map", "agent_id=id")
    slimmer += ("--map", "capacity=max_tickets", "--map", "languages=locale")
    assert cxa(*slimmer, env=env).returncode == 0
    with db.connect(database_url) as conn:
        roster = conn.execute(
            "SELECT agent_id, name, team, skills, languages, capacity, shift_start, work_days, hired_at"
            " FROM raw.agents ORDER BY agent_id"
        ).fetchall()
        people = conn.execute("SELECT customer_id, segment, plan, language FROM raw.customers").fetchall()
    assert roster == [
        (
            f"zendesk:{german}",
            "Lena Weber",
            "DACH",
            {"billing": 0.9},
            ["de"],
            3,
            time(8),
            [1, 2, 3, 4, 5],
            None,
        ),
        (f"zendesk:{english}", "Sam Park", "Global", {"billing": 0.7}, ["en"], 2, None, None, None),
    ]
    assert people == [(f"zendesk:{run}50", "Acme", None, "en")]

    # A bad file imports nothing and names the line.
    bad = tmp_path / "bad.csv"
    bad.write_text("agent_id,capacity\nA1,lots\n", encoding="utf-8")
    refused = cxa("reference", "import", "--agents", str(bad), env=env)
    assert refused.returncode == 1
    assert "line 2: capacity 'lots'" in refused.stderr
    assert "nothing imported" in refused.stderr
    assert one_row(database_url, "SELECT count(*) FROM raw.agents")[0] == 2

    worker_env = {
        **env,
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_CATEGORIZER_ENABLED": "false",
    }
    ticket = f"zendesk:{run}77"
    with worker(worker_env, tmp_path / "worker.log"):
        now = datetime.now(UTC)
        with Publisher(KafkaSettings(KAFKA_BOOTSTRAP_SERVERS=stack.bootstrap_servers)) as publisher:
            for agent in (german, english):
                online = AgentStatusChanged(
                    occurred_at=now, agent_id=f"zendesk:{agent}", status=AgentStatus.ONLINE
                )
                publisher.publish(AGENT_EVENTS, online.key, serialize(online))
            created = TicketCreated(
                occurred_at=now,
                ticket_id=ticket,
                customer_id=f"zendesk:{run}50",
                channel=Channel.EMAIL,
                priority=Priority.HIGH,
                subject="Charged twice",
                body="My card was charged twice for one order.",
                language="en",
            )
            publisher.publish(TICKET_EVENTS, created.key, serialize(created))
        # Only the agent the export says speaks English may get an English ticket.
        decided = wait_for(
            lambda: one_row(
                database_url, "SELECT max(agent_id) FROM raw.routing_decisions WHERE ticket_id = %s", ticket
            )[0],
            timeout=120,
            what="the router's decision for the imported customer's ticket",
        )
        assert decided == f"zendesk:{english}"
        # Every import's announcements (skills and capacity per agent: 2 + 2 + 1 agents) and the two
        # status changes.
        wait_for(
            lambda: (
                one_row(
                    database_url,
                    "SELECT count(*) FROM raw.agent_events WHERE agent_id LIKE %s",
                    f"zendesk:{run}%",
                )[0]
                == (2 + 2 + 1) * 2 + 2
            ),
            timeout=60,
            what="the announcements in raw.agent_events",
        )
