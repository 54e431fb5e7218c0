"""Routing decisions from real Kafka written back by the real process to a local fake helpdesk, which
records each call: every vendor's endpoint, body and credentials, retries, a decision delivered
again after a restart (kept in the real PostgreSQL), and a dry run."""

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar, NamedTuple

import pytest

from cxa import db, topics
from cxa.events import TicketRouted, serialize
from cxa.kafka import group_lag
from cxa.settings import KafkaSettings
from producers.publisher import Publisher
from tests.integration.processes import wait_for

pytestmark = pytest.mark.integration


class Call(NamedTuple):
    method: str
    path: str
    body: dict
    credentials: str | None
    status: int


class FakeHelpdesk(BaseHTTPRequestHandler):
    """Records each call and its answer: the ``answers`` in turn (with Retry-After: 1), then 200."""

    calls: ClassVar[list[Call]] = []
    answers: ClassVar[list[int]] = []

    def _answer(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = FakeHelpdesk.answers.pop(0) if FakeHelpdesk.answers else 200
        credentials = self.headers.get("Authorization") or self.headers.get("api_access_token")
        FakeHelpdesk.calls.append(Call(self.command, self.path, body, credentials, status))
        self.send_response(status)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_PUT = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def helpdesk() -> Iterator[str]:
    """The fake helpdesk's base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHelpdesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeHelpdesk.calls, FakeHelpdesk.answers = [], []
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def _publish(kafka_settings: KafkaSettings, *decisions: TicketRouted) -> None:
    with Publisher(kafka_settings) as publisher:
        for routed in decisions:
            publisher.publish(topics.TICKETS_ROUTED, routed.ticket_id, serialize(routed))


def _decision(ticket: str, agent: str) -> TicketRouted:
    return TicketRouted(
        ticket_id=ticket,
        occurred_at=datetime.now(UTC),
        agent_id=agent,
        policy="optimizer",
        score=1,
        solver_ms=1,
    )


@contextmanager
def _connector(
    vendor: str, env: dict[str, str], log: Path, *options: str
) -> Iterator[subprocess.Popen[bytes]]:
    """`cxa connector writeback --vendor ...`, stopped with SIGTERM when the block ends."""
    command = [sys.executable, "-m", "cxa", "connector", "writeback", "--vendor", vendor, *options]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0, log.read_text()


def _answered(*paths: str) -> bool:
    return {call.path for call in FakeHelpdesk.calls if call.status == 200} >= set(paths)


def test_decisions_are_assigned_in_the_helpdesk_once_even_when_delivered_again(
    stack, kafka_settings: KafkaSettings, database_url: str, helpdesk: str, tmp_path: Path
) -> None:
    seed = uuid.uuid4().hex[:8]
    first = _decision(f"zendesk:{seed}1", "zendesk:900001")
    _publish(
        kafka_settings,
        first,
        _decision(f"jira:{seed}2", "jira:abc"),  # another helpdesk's ticket
        _decision(f"zendesk:{seed}3", "A17"),  # an agent known by the agents file
    )
    agents = tmp_path / "agents.csv"
    agents.write_text("agent_id,vendor_user_id\nA17,900017\n")
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WRITEBACK_BASE_URL": helpdesk,
        "CXA_WRITEBACK_USER": "bot@example.com",
        "CXA_WRITEBACK_TOKEN": "tok3n",
        "CXA_WRITEBACK_AGENTS_FILE": str(agents),
        "CXA_WRITEBACK_GROUP_ID": f"writeback-{seed}",
    }
    FakeHelpdesk.answers = [429]
    log = tmp_path / "writeback.log"
    mine = {f"/api/v2/tickets/{seed}1", f"/api/v2/tickets/{seed}3"}
    with _connector("zendesk", env, log):
        # The broker is shared: earlier tests' Zendesk decisions come first, and one of them may be
        # the call answered 429.
        wait_for(lambda: _answered(*mine), timeout=60, what="both assignments answered 200")
    output = log.read_text()
    # One call answered 200 per decision applied, besides the first call, answered 429 and retried.
    calls = list(FakeHelpdesk.calls)
    assert [call.status for call in calls].count(429) == 1
    assert calls[1].path == calls[0].path  # the throttled call again, after its Retry-After
    assert f"applied {len(calls) - 1}, refused 0, given up 0" in output
    basic = "Basic Ym90QGV4YW1wbGUuY29tL3Rva2VuOnRvazNu"  # bot@example.com/token:tok3n
    ours = [(c.method, c.path, c.body, c.credentials) for c in calls if c.path in mine and c.status == 200]
    assert sorted(ours, key=str) == [
        ("PUT", f"/api/v2/tickets/{seed}1", {"ticket": {"assignee_id": 900001}}, basic),
        ("PUT", f"/api/v2/tickets/{seed}3", {"ticket": {"assignee_id": 900017}}, basic),
    ]
    # Applied and committed: a restarted connector starts after them.
    assert group_lag(kafka_settings, f"writeback-{seed}", topics.TICKETS_ROUTED) == 0

    # The first decision sent again (the same event id, at a later offset) is not applied again over
    # what agents did since; a new decision is.
    _publish(kafka_settings, first, _decision(f"zendesk:{seed}4", "zendesk:900002"))
    with _connector("zendesk", env, log):
        wait_for(lambda: _answered(f"/api/v2/tickets/{seed}4"), timeout=60, what="the new decision applied")
        wait_for(
            lambda: group_lag(kafka_settings, f"writeback-{seed}", topics.TICKETS_ROUTED) == 0,
            timeout=30,
            what="the batch committed",
        )
    assert [c.path for c in FakeHelpdesk.calls if c.status == 200].count(f"/api/v2/tickets/{seed}1") == 1
    assert "delivered again 1" in log.read_text().splitlines()[-1]
    with db.connect(database_url) as conn:
        kept = conn.execute(
            "SELECT ticket_id FROM live.writeback_decisions WHERE ticket_id LIKE %s ORDER BY ticket_id",
            (f"zendesk:{seed}%",),
        ).fetchall()
    assert kept == [(f"zendesk:{seed}1",), (f"zendesk:{seed}3",), (f"zendesk:{seed}4",)]


def _basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# Each helpdesk's call: (vendor, base URL path, agent, method, path of ticket T, body, credentials).
CALLS = [
    (
        "freshdesk",
        "",
        "freshdesk:ana.duarte:example.net",  # by email, numbered in the agents file
        "PUT",
        "/api/v2/tickets/{ticket}",
        {"responder_id": 61000000001},
        _basic("tok3n:X"),
    ),
    (
        "jira",
        "",
        "jira:5b10ac8d82e05b22cc7d4ef6",
        "PUT",
        "/rest/api/3/issue/{ticket}/assignee",
        {"accountId": "5b10ac8d82e05b22cc7d4ef6"},
        _basic("bot@example.com:tok3n"),
    ),
    (
        "chatwoot",
        "/api/v1/accounts/3",
        "chatwoot:12",
        "POST",
        "/api/v1/accounts/3/conversations/{ticket}/assignments",
        {"assignee_id": 12},
        "tok3n",
    ),
]


def test_each_helpdesk_gets_its_own_assignment_call(
    stack, kafka_settings: KafkaSettings, database_url: str, helpdesk: str, tmp_path: Path
) -> None:
    # One connector per helpdesk, as deployed, all at once (the Zendesk one is tested above).
    ticket = uuid.uuid4().hex[:8]
    _publish(kafka_settings, *[_decision(f"{vendor}:{ticket}", agent) for vendor, _, agent, *_ in CALLS])
    agents = tmp_path / "agents.csv"
    agents.write_text("freshdesk:ana.duarte:example.net,61000000001\n")
    expected = [
        Call(method, path.format(ticket=ticket), body, credentials, 200)
        for _, _, _, method, path, body, credentials in CALLS
    ]
    with ExitStack() as connectors:
        for vendor, base, *_ in CALLS:
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
                "DATABASE_URL": database_url,
                "CXA_WRITEBACK_BASE_URL": helpdesk + base,
                "CXA_WRITEBACK_USER": "bot@example.com",
                "CXA_WRITEBACK_TOKEN": "tok3n",
                "CXA_WRITEBACK_AGENTS_FILE": str(agents),
                "CXA_WRITEBACK_GROUP_ID": f"writeback-{vendor}-{ticket}",
            }
            connectors.enter_context(_connector(vendor, env, tmp_path / f"{vendor}.log"))
        wait_for(lambda: _answered(*[call.path for call in expected]), timeout=90, what="every assignment")
    assert sorted(c for c in FakeHelpdesk.calls if ticket in c.path) == sorted(expected)


def test_a_dry_run_logs_each_call_and_makes_none_commits_nothing_and_needs_no_database(
    stack, kafka_settings: KafkaSettings, helpdesk: str, tmp_path: Path
) -> None:
    ticket = uuid.uuid4().hex[:8]
    _publish(kafka_settings, _decision(f"chatwoot:{ticket}", "chatwoot:12"))
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/nothing",  # not reachable, and not needed
        "CXA_WRITEBACK_BASE_URL": helpdesk,
        "CXA_WRITEBACK_TOKEN": "tok3n",
        "CXA_WRITEBACK_GROUP_ID": f"writeback-{ticket}",
    }
    log = tmp_path / "writeback.log"
    logged = f"dry run: POST conversations/{ticket}/assignments {{'assignee_id': 12}}"
    with _connector("chatwoot", env, log, "--dry-run"):
        wait_for(lambda: logged in log.read_text(), timeout=60, what="the call logged")
    assert FakeHelpdesk.calls == []
    assert "(dry run)" in log.read_text()
    assert group_lag(kafka_settings, f"writeback-{ticket}", topics.TICKETS_ROUTED) > 0  # nothing committed
