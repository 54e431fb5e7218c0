"""Helpdesk webhooks through the real gateway process, Kafka and worker: into `raw` and the wall board."""

import json
import os
import select
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors.vendors.auth import base64_signature, hex_signature
from cxa import db
from cxa.stack import free_port
from tests.integration.processes import one_row, start_at_the_end, wait_for, worker

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
SECRETS = {"zendesk": "zd-secret", "freshdesk": "fd-token", "jira": "jira-secret", "chatwoot": "cw-token"}
ZENDESK_CSAT_SECRET = "zd-csat-secret"
"""Zendesk's CSAT comes from a second webhook (a trigger's), signed with a secret of its own."""

# Each helpdesk's deliveries in the order they happened. Zendesk and Freshdesk leave their ticket
# pending; Jira and Chatwoot resolve theirs: a backlog of two.
TIMELINES = {
    "zendesk": [
        "ticket_created.json",
        "ticket_agent_assignment_changed.json",
        "ticket_comment_added_public_agent.json",
        "ticket_status_changed.json",
        "ticket_comment_added_internal.json",
        "ticket_priority_changed.json",
        "ticket_satisfaction_rated.json",
    ],
    "freshdesk": [
        "ticket_created.json",
        "ticket_assigned.json",
        "agent_replied.json",
        "ticket_status_changed.json",
        "csat_submitted.json",
    ],
    "jira": [
        "issue_created.json",
        "issue_updated_assignee.json",
        "comment_created_public_agent.json",
        "comment_created_customer.json",
        "issue_updated_resolved.json",
    ],
    "chatwoot": [
        "conversation_created.json",
        "conversation_updated_assignee.json",
        "message_created_outgoing.json",
        "conversation_status_changed_resolved.json",
        "message_updated_csat.json",
    ],
}
EVENTS = {"zendesk": 7, "freshdesk": 5, "jira": 5, "chatwoot": 5}
"""Contract events the timelines make (the created ticket's assignment and status included)."""


def _signed(vendor: str, name: str) -> tuple[str, bytes, dict[str, str]]:
    """URL, body and headers as the helpdesk sends them, signed with the test's secret."""
    body = (FIXTURES / vendor / name).read_bytes()
    secret = ZENDESK_CSAT_SECRET if name == "ticket_satisfaction_rated.json" else SECRETS[vendor]
    if vendor == "zendesk":
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        signature = base64_signature(secret, stamp.encode() + body)
        headers = {"X-Zendesk-Webhook-Signature": signature, "X-Zendesk-Webhook-Signature-Timestamp": stamp}
        return "/webhooks/zendesk", body, headers
    if vendor == "freshdesk":
        return "/webhooks/freshdesk", body, {"X-Cxa-Token": secret}
    if vendor == "jira":
        delivery = json.loads((FIXTURES / "jira" / "headers.json").read_text())["deliveries"][name]
        identifier = delivery["X-Atlassian-Webhook-Identifier"]
        headers = {
            "X-Hub-Signature": f"sha256={hex_signature(secret, body)}",
            "X-Atlassian-Webhook-Identifier": identifier,
        }
        return "/webhooks/jira", body, headers
    return f"/webhooks/chatwoot?token={secret}", body, {"X-Chatwoot-Delivery": f"delivery-{name}"}


def _serve(port: int, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """`cxa ingest serve` on ``port``, its output in ``log_path``."""
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cxa", "ingest", "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _answers(client: httpx.Client, path: str) -> bool:
    """``path`` answers 200 (the gateway may not listen yet)."""
    try:
        return client.get(path).status_code == 200
    except httpx.TransportError:
        return False


def test_webhooks_land_in_raw_once_and_reach_the_wall_board(stack, database_url: str, tmp_path: Path) -> None:
    group = f"cxa-gateway-{uuid.uuid4().hex[:8]}"
    start_at_the_end(stack.bootstrap_servers, group)
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        **{
            f"CXA_INGEST_{vendor.upper()}_{'TOKEN' if vendor == 'freshdesk' else 'SECRET'}": s
            for vendor, s in SECRETS.items()
        },
        "CXA_INGEST_ZENDESK_SECRET": f"{SECRETS['zendesk']}, {ZENDESK_CSAT_SECRET}",
    }
    gateway = _serve(port, env, tmp_path / "gateway.log")
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

        wait_for(lambda: _answers(client, "/readyz"), timeout=60, what="the gateway to be ready")
        accepted = {}
        for vendor, names in TIMELINES.items():
            accepted[vendor] = 0
            for name in names:
                url, body, headers = _signed(vendor, name)
                response = client.post(
                    url, content=body, headers={**headers, "Content-Type": "application/json"}
                )
                assert response.status_code == 202, (vendor, name, response.text)
                accepted[vendor] += response.json()["accepted"]
        assert accepted == EVENTS
        # The helpdesks retry a delivery they think failed: nothing more may land.
        url, body, headers = _signed("jira", "issue_created.json")
        assert client.post(url, content=body, headers=headers).status_code == 202
        # A custom status nobody mapped: 400, and a dead letter with the body as Zendesk sent it.
        url, body, headers = _signed("zendesk", "ticket_status_changed.json")
        unmapped = body.replace(b'"current": "PENDING"', b'"current": "AWAITING_PARTS"')
        stamp = headers["X-Zendesk-Webhook-Signature-Timestamp"]
        headers["X-Zendesk-Webhook-Signature"] = base64_signature(
            SECRETS["zendesk"], stamp.encode() + unmapped
        )
        refused = client.post(url, content=unmapped, headers=headers)
        assert refused.status_code == 400, refused.text
        assert "awaiting_parts" in refused.json()["error"].lower()
        url, body, headers = _signed("zendesk", "ticket_created.json")
        assert (
            client.post(
                url, content=body, headers={**headers, "X-Zendesk-Webhook-Signature": "forged"}
            ).status_code
            == 401
        )
        client.close()
    finally:
        gateway.terminate()
        gateway.wait(timeout=20)
    # Uvicorn finishes its requests and stops, then ends by the signal it was sent.
    assert gateway.returncode in (0, -15)
    assert "Application shutdown complete" in (tmp_path / "gateway.log").read_text()

    worker_env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        # The fixtures are dated in December 2026, maybe ahead of this machine's clock.
        "CXA_WORKER_MAX_CLOCK_SKEW_SECONDS": str(365 * 24 * 3600),
    }
    with worker(worker_env, tmp_path / "worker.log"):

        def landed() -> dict[str, int]:
            counts = {
                vendor: one_row(
                    database_url,
                    "SELECT count(*) FROM raw.ticket_events WHERE ticket_id LIKE %s",
                    f"{vendor}:%",
                )[0]
                for vendor in EVENTS
            }
            return counts if counts == EVENTS else {}

        wait_for(landed, timeout=120, what=f"{sum(EVENTS.values())} events in raw.ticket_events")
        board: list[tuple[object, ...]] = []

        def backlog_of_two() -> bool:
            with db.connect(database_url) as conn:
                board[:] = conn.execute(
                    "SELECT backlog, waiting, last_event_at FROM live.floor_summary"
                ).fetchall()
            return bool(board) and board[0][0] == 2

        try:
            wait_for(backlog_of_two, timeout=60, what="the wall board's backlog of two")
        except AssertionError as timed_out:
            raise AssertionError(f"{timed_out}; the board shows {board}") from None
        # The worker records the gateway's dead letter where operators list and replay them.
        letters: list[tuple[object, ...]] = []

        def one_letter() -> bool:
            with db.connect(database_url) as conn:
                letters[:] = conn.execute(
                    "SELECT origin_topic, kind, reason, message_value FROM live.deadletters"
                ).fetchall()
            return len(letters) == 1

        wait_for(one_letter, timeout=60, what="the refused webhook in live.deadletters")
        origin, _, reason, value = letters[0]
        assert (origin, bytes(value)) == ("webhook/zendesk", unmapped)
        assert "AWAITING_PARTS".lower() in str(reason).lower()
    assert one_row(database_url, "SELECT count(DISTINCT event_id) FROM raw.ticket_events")[0] == sum(
        EVENTS.values()
    )
    kinds = one_row(
        database_url,
        "SELECT array_agg(event_type ORDER BY occurred_at, event_type) FROM raw.ticket_events"
        " WHERE ticket_id = 'chatwoot:1234'",
    )[0]
    assert kinds == [
        "ticket.created",
        "ticket.assigned",
        "ticket.agent_replied",
        "ticket.status_changed",
        "ticket.csat_submitted",
    ]
    ratings = one_row(
        database_url,
        "SELECT array_agg(ticket_id || '=' || (payload->>'rating') ORDER BY ticket_id) FROM raw.ticket_events"
        " WHERE event_type = 'ticket.csat_submitted'",
    )[0]
    assert ratings == ["chatwoot:1234=5", "freshdesk:4711=5", "zendesk:35436=5"]


class Forwarder(socketserver.ThreadingTCPServer):
    """A TCP port that forwards to the broker once it is started: Kafka coming up late."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        self.target = target
        super().__init__(("127.0.0.1", port), Pipe)


class Pipe(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, Forwarder)
        with socket.create_connection(self.server.target) as upstream:
            sockets = [self.request, upstream]
            while True:
                readable, _, _ = select.select(sockets, [], [], 30)
                if not readable:
                    return
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (upstream if source is self.request else self.request).sendall(data)


def test_the_gateway_waits_for_a_kafka_that_starts_late(stack, tmp_path: Path) -> None:
    host, broker_port = stack.bootstrap_servers.split(",")[0].rsplit(":", 1)
    late, port = free_port(), free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{late}",
        "CXA_INGEST_EVENTS_TOKEN": "events-token",
    }
    gateway = _serve(port, env, tmp_path / "gateway.log")
    forwarder: Forwarder | None = None
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

        wait_for(lambda: _answers(client, "/healthz"), timeout=60, what="the gateway to serve without Kafka")
        assert client.get("/readyz").status_code == 503
        event = {
            "event_type": "agent.status_changed",
            "agent_id": f"A-late-{uuid.uuid4().hex[:6]}",
            "occurred_at": "2026-12-01T10:00:00Z",
            "status": "online",
        }
        auth = {"Authorization": "Bearer events-token"}
        refused = client.post("/events", json=event, headers=auth)
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert "not reachable" in refused.json()["error"]

        forwarder = Forwarder(late, (host, int(broker_port)))
        threading.Thread(target=forwarder.serve_forever, daemon=True).start()
        wait_for(
            lambda: client.get("/readyz").status_code == 200, timeout=90, what="the gateway to reach Kafka"
        )
        assert client.post("/events", json=event, headers=auth).json() == {"accepted": 1}
        assert gateway.poll() is None
    finally:
        gateway.terminate()
        # uvicorn shuts down cleanly, then re-raises the SIGTERM it caught.
        assert gateway.wait(timeout=30) in (0, -signal.SIGTERM), (tmp_path / "gateway.log").read_text()
        if forwarder is not None:
            forwarder.shutdown()
            forwarder.server_close()
    log_text = (tmp_path / "gateway.log").read_text()
    assert "is not reachable" in log_text
    assert "connected to Kafka" in log_text
    assert "Application shutdown complete" in log_text
