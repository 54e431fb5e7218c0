"""Routing decisions from real Kafka written back to a local fake helpdesk by the real process."""

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from cxa import topics
from cxa.events import TicketRouted, serialize
from cxa.kafka import group_lag
from cxa.settings import KafkaSettings
from producers.publisher import Publisher
from tests.integration.processes import wait_for

pytestmark = pytest.mark.integration


class FakeZendesk(BaseHTTPRequestHandler):
    """Records each call and its answer: the first call 429 (Retry-After: 1), the rest 200."""

    calls: ClassVar[list[tuple[str, str, dict, str, int]]] = []

    def do_PUT(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 429 if not FakeZendesk.calls else 200
        FakeZendesk.calls.append((self.command, self.path, body, self.headers["Authorization"], status))
        self.send_response(status)
        self.send_header("Retry-After", "1")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_decisions_are_assigned_in_the_helpdesk_once(
    stack, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    seed = uuid.uuid4().hex[:8]
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeZendesk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    FakeZendesk.calls = []
    now = datetime.now(UTC)

    def decision(ticket: str, agent: str) -> TicketRouted:
        return TicketRouted(
            ticket_id=ticket, occurred_at=now, agent_id=agent, policy="optimizer", score=1, solver_ms=1
        )

    with Publisher(kafka_settings) as publisher:
        for routed in [
            decision(f"zendesk:{seed}1", "zendesk:900001"),
            decision(f"jira:{seed}2", "jira:abc"),  # another helpdesk's ticket
            decision(f"zendesk:{seed}3", "A17"),  # an agent known by the agents file
        ]:
            publisher.publish(topics.TICKETS_ROUTED, routed.ticket_id, serialize(routed))
    agents = tmp_path / "agents.csv"
    agents.write_text("agent_id,vendor_user_id\nA17,900017\n")
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "CXA_WRITEBACK_BASE_URL": f"http://127.0.0.1:{server.server_port}",
        "CXA_WRITEBACK_USER": "bot@example.com",
        "CXA_WRITEBACK_TOKEN": "tok3n",
        "CXA_WRITEBACK_AGENTS_FILE": str(agents),
        "CXA_WRITEBACK_GROUP_ID": f"writeback-{seed}",
    }
    command = [sys.executable, "-m", "cxa", "connector", "writeback", "--vendor", "zendesk"]
    with (tmp_path / "writeback.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    mine = {f"/api/v2/tickets/{seed}1", f"/api/v2/tickets/{seed}3"}
    try:
        # The broker is shared: earlier tests' Zendesk decisions come first, and one of them may be
        # the call answered 429.
        wait_for(
            lambda: {path for _, path, _, _, status in FakeZendesk.calls if status == 200} >= mine,
            timeout=60,
            what="both assignments answered 200",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        server.shutdown()
    output = (tmp_path / "writeback.log").read_text()
    assert process.returncode == 0, output
    # One call answered 200 per decision applied, besides the first call, answered 429 and retried.
    calls = FakeZendesk.calls
    assert [status for *_, status in calls].count(429) == 1
    assert calls[1][1] == calls[0][1]  # the throttled call again, after its Retry-After
    assert f"applied {len(calls) - 1}, refused 0, given up 0" in output
    basic = "Basic Ym90QGV4YW1wbGUuY29tL3Rva2VuOnRvazNu"  # bot@example.com/token:tok3n
    ours = [(m, p, json.dumps(b), a) for m, p, b, a, status in calls if p in mine and status == 200]
    assert sorted(ours) == [
        ("PUT", f"/api/v2/tickets/{seed}1", json.dumps({"ticket": {"assignee_id": 900001}}), basic),
        ("PUT", f"/api/v2/tickets/{seed}3", json.dumps({"ticket": {"assignee_id": 900017}}), basic),
    ]
    # Applied and committed: a restarted connector starts after them.
    assert group_lag(kafka_settings, f"writeback-{seed}", topics.TICKETS_ROUTED) == 0
