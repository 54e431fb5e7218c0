"""The gateway's HTTP behaviour (authentication, limits, refusals, idempotent ids), with a
publisher that records what Kafka would get. tests/integration/test_gateway.py runs it on Kafka."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from limits import parse as parse_limit

from connectors.gateway import FixedWindow, create_app
from connectors.publishing import Record
from connectors.settings import GatewaySettings
from connectors.vendors import VENDORS
from connectors.vendors.auth import base64_signature, hex_signature
from connectors.vendors.mapping import load_mappings
from cxa import topics
from cxa.deadletters import KIND_HEADER, ORIGIN_TOPIC_HEADER, REASON_HEADER

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks"
JIRA_HEADERS = json.loads((FIXTURES / "jira" / "headers.json").read_text())
ZENDESK_HEADERS = json.loads((FIXTURES / "zendesk" / "headers.json").read_text())


class Recording:
    def __init__(self) -> None:
        self.records: list[Record] = []
        self.up = True
        self.started = False

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    async def publish(self, records: list[Record]) -> None:
        if not self.up:
            raise TimeoutError("Kafka is down")
        self.records.extend(records)

    async def ready(self) -> bool:
        return self.up


@pytest.fixture
def gateway() -> tuple[TestClient, Recording]:
    settings = GatewaySettings(
        events_token="events-token",
        jira_secret=JIRA_HEADERS["_secret"],
        chatwoot_secret="chatwoot-token",
        max_body_bytes=64 * 1024,
        rate_limit="1000/second",
        _env_file=None,  # type: ignore[call-arg]
    )
    publisher = Recording()
    app = create_app(settings, publisher, VENDORS, load_mappings())
    with TestClient(app) as client:
        assert publisher.started
        yield client, publisher


def _jira(client: TestClient, name: str) -> tuple[int, dict]:
    body = (FIXTURES / "jira" / name).read_bytes()
    response = client.post("/webhooks/jira", content=body, headers=JIRA_HEADERS["deliveries"][name])
    return response.status_code, response.json()


def test_a_signed_webhook_is_published_once_per_event_and_a_retry_gets_the_same_ids(gateway) -> None:
    client, publisher = gateway
    assert _jira(client, "issue_created.json") == (202, {"accepted": 1})
    (record,) = publisher.records
    assert (record.topic, record.key) == (topics.TICKET_EVENTS, "jira:10042")
    assert json.loads(record.value)["event_type"] == "ticket.created"
    _jira(client, "issue_created.json")  # Jira retries with the same delivery id
    assert publisher.records[1].value == record.value


def test_a_bad_signature_is_401_and_nothing_is_published(gateway) -> None:
    client, publisher = gateway
    body = (FIXTURES / "jira" / "issue_created.json").read_bytes()
    headers = {**JIRA_HEADERS["deliveries"]["issue_created.json"], "X-Hub-Signature": "sha256=" + "0" * 64}
    response = client.post("/webhooks/jira", content=body, headers=headers)
    assert response.status_code == 401
    assert "does not match" in response.json()["error"]
    assert publisher.records == []


def test_a_helpdesk_without_its_secret_set_is_refused_with_the_setting_to_set(gateway) -> None:
    client, _ = gateway
    response = client.post("/webhooks/zendesk", content=b"{}")
    assert response.status_code == 401
    assert "CXA_INGEST_ZENDESK_SECRET" in response.json()["error"]
    assert client.post("/webhooks/nosuch", content=b"{}").status_code == 404


def test_a_webhook_signed_with_any_of_its_comma_separated_secrets_is_genuine() -> None:
    """During a rotation, or for Zendesk's second (CSAT) webhook."""
    settings = GatewaySettings(jira_secret=f"old-secret-1, {JIRA_HEADERS['_secret']}", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, Recording(), VENDORS, load_mappings())) as client:
        assert _jira(client, "issue_created.json") == (202, {"accepted": 1})
        body = (FIXTURES / "jira" / "issue_created.json").read_bytes()
        for secret in ("", "not-one-of-them"):
            forged = {
                **JIRA_HEADERS["deliveries"]["issue_created.json"],
                "X-Hub-Signature": f"sha256={hex_signature(secret, body)}",
            }
            response = client.post("/webhooks/jira", content=body, headers=forged)
            assert response.status_code == 401
            assert "does not match" in response.json()["error"]


def test_a_refusal_names_what_the_matching_secret_found_wrong() -> None:
    """A replayed Zendesk delivery signed with the second secret is a replay, not a wrong secret."""
    body = (FIXTURES / "zendesk" / "ticket_satisfaction_rated.json").read_bytes()
    headers = dict(ZENDESK_HEADERS["deliveries"]["ticket_satisfaction_rated.json"])
    settings = GatewaySettings(zendesk_secret=f"events-secret-1,{ZENDESK_HEADERS['_secret']}", _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, Recording(), VENDORS, load_mappings())) as client:
        response = client.post("/webhooks/zendesk", content=body, headers=headers)  # signed in 2026-12
    assert response.status_code == 401
    assert "more than 300 s from the gateway's clock" in response.json()["error"]


def test_a_body_with_a_key_twice_is_refused_so_a_pasted_comment_cannot_set_the_rating() -> None:
    """An unescaped quote in the customer's comment of Zendesk's CSAT template."""
    secret = ZENDESK_HEADERS["_secret"]
    template = (FIXTURES / "zendesk" / "ticket_satisfaction_rated.json").read_text()
    forged = template.replace(
        "Quick and clear, thank you!", 'ok", "rating": "Bad", "detail": {"id": "99999"}, "x": "'
    ).encode()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {
        "X-Zendesk-Webhook-Signature-Timestamp": stamp,
        "X-Zendesk-Webhook-Signature": base64_signature(secret, stamp.encode() + forged),
    }
    publisher = Recording()
    settings = GatewaySettings(zendesk_secret=secret, _env_file=None)  # type: ignore[call-arg]
    with TestClient(create_app(settings, publisher, VENDORS, load_mappings())) as client:
        response = client.post("/webhooks/zendesk", content=forged, headers=headers)
    assert response.status_code == 400
    assert "appears twice" in response.json()["error"]
    (letter,) = publisher.records  # dead-lettered with its body, no event
    assert (letter.topic, letter.value) == (topics.DEADLETTER, forged)


@pytest.mark.parametrize("value", [" , ", "long-enough-secret,", "Xy7,Q-and-more"])
def test_a_secret_setting_with_an_empty_or_short_part_is_refused_at_start(value: str) -> None:
    with pytest.raises(ValueError, match="at least 8 characters"):
        GatewaySettings(jira_secret=value, _env_file=None)  # type: ignore[call-arg]


def test_what_cannot_be_mapped_is_400_with_the_reason_and_dead_lettered_with_its_body(gateway) -> None:
    client, publisher = gateway
    payload = json.loads((FIXTURES / "jira" / "issue_updated_status.json").read_text())
    payload["changelog"]["items"][0]["toString"] = "Awaiting parts"
    del payload["issue"]["fields"]["status"]
    body = json.dumps(payload).encode()
    signed = {"X-Hub-Signature": "sha256=" + hex_signature(JIRA_HEADERS["_secret"], body)}
    response = client.post("/webhooks/jira", content=body, headers=signed)
    assert response.status_code == 400
    assert "[jira.statuses]" in response.json()["error"]
    (letter,) = publisher.records
    assert letter.topic == topics.DEADLETTER
    assert letter.value == body
    headers = dict(letter.headers)
    assert headers[KIND_HEADER] == b"schema"
    assert headers[ORIGIN_TOPIC_HEADER] == b"webhook/jira"
    assert b"Awaiting parts" in headers[REASON_HEADER]


def test_not_json_is_400_malformed(gateway) -> None:
    client, publisher = gateway
    response = client.post("/webhooks/chatwoot?token=chatwoot-token", content=b"{not json")
    assert response.status_code == 400
    assert dict(publisher.records[0].headers)[KIND_HEADER] == b"malformed"


def test_a_body_over_the_limit_is_413(gateway) -> None:
    client, publisher = gateway
    response = client.post("/webhooks/chatwoot?token=chatwoot-token", content=b" " * (65 * 1024))
    assert response.status_code == 413
    assert "CXA_INGEST_MAX_BODY_BYTES" in response.json()["error"]
    assert publisher.records == []


def test_kafka_not_acknowledging_is_503_so_the_helpdesk_retries(gateway) -> None:
    client, publisher = gateway
    publisher.up = False
    status, answer = _jira(client, "issue_created.json")
    assert status == 503
    assert "retry" in answer["error"]
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200
    publisher.up = True
    assert client.get("/readyz").status_code == 200


def test_events_takes_one_event_or_an_array_with_its_bearer_token(gateway) -> None:
    client, publisher = gateway
    event = {
        "event_type": "agent.status_changed",
        "agent_id": "A1",
        "occurred_at": "2026-12-01T10:00:00Z",
        "status": "online",
    }
    assert client.post("/events", json=event).status_code == 401
    assert client.post("/events", json=event, headers={"Authorization": "Bearer nope"}).status_code == 401
    auth = {"Authorization": "Bearer events-token"}
    assert client.post("/events", json=event, headers=auth).json() == {"accepted": 1}
    assert client.post("/events", json=[event, {**event, "agent_id": "A2"}], headers=auth).json() == {
        "accepted": 2
    }
    assert [(r.topic, r.key) for r in publisher.records] == [
        (topics.AGENT_EVENTS, k) for k in ("A1", "A1", "A2")
    ]
    response = client.post("/events", json=[event, {**event, "status": "asleep"}], headers=auth)
    assert response.status_code == 400
    assert response.json()["error"].startswith("[1] ")  # which one, and why
    assert len(publisher.records) == 4  # nothing of the refused request but its dead letter
    assert publisher.records[-1].topic == topics.DEADLETTER


def test_the_rate_limit_is_429_with_retry_after() -> None:
    settings = GatewaySettings(
        events_token="t",
        rate_limit="2/minute",
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(settings, Recording(), VENDORS, load_mappings())) as client:
        codes = [client.post("/events", content=b"[]").status_code for _ in range(3)]
        assert codes[:2] != [429, 429]
        assert codes[2] == 429
        assert client.post("/events", content=b"[]").headers["Retry-After"] == "1"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b'{"event": "message_created", "conversation": "x"}'])
def test_a_payload_of_another_shape_is_400_and_dead_lettered_not_a_server_error(gateway, body) -> None:
    client, publisher = gateway
    response = client.post("/webhooks/chatwoot?token=chatwoot-token", content=body)
    assert response.status_code == 400
    (letter,) = publisher.records
    assert letter.topic == topics.DEADLETTER
    assert letter.value == body


def test_the_rate_limit_window_starts_at_a_clients_first_hit_and_forgets_idle_clients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [100.0]
    monkeypatch.setattr("connectors.gateway.time.monotonic", lambda: clock[0])
    window = FixedWindow(parse_limit("2/minute"))
    assert [window.hit("a"), window.hit("a"), window.hit("a")] == [True, True, False]
    clock[0] = 130.0
    assert window.hit("b")  # each client has a window of its own
    assert not window.hit("a")  # refused hits still count, and a's window runs until 160
    clock[0] = 160.0
    assert [window.hit("a"), window.hit("a"), window.hit("a")] == [True, True, False]
    clock[0] = 300.0
    window.hit("c")
    assert set(window._windows) == {"c"}  # windows that are over are dropped


FRESHDESK = FIXTURES / "freshdesk"


def test_a_freshdesk_body_of_our_template_that_cannot_be_read_is_400_and_dead_lettered() -> None:
    settings = GatewaySettings(freshdesk_token="freshdesk-token", _env_file=None)  # type: ignore[call-arg]
    publisher = Recording()
    with TestClient(create_app(settings, publisher, VENDORS, load_mappings())) as client:
        token = {"X-Cxa-Token": "freshdesk-token", "Content-Type": "application/json"}
        payload = json.loads((FRESHDESK / "ticket_created.json").read_text())
        typo = json.dumps({**payload, "event": "ticket_create"}).encode()
        response = client.post("/webhooks/freshdesk", content=typo, headers=token)
        assert response.status_code == 400
        assert "'ticket_create' is none of the template's" in response.json()["error"]
        (letter,) = publisher.records
        assert (letter.topic, letter.value) == (topics.DEADLETTER, typo)
        assert dict(letter.headers)[ORIGIN_TOPIC_HEADER] == b"webhook/freshdesk"

        # A delivery the platform deliberately keeps nothing of is accepted, and no dead letter.
        unassigned = json.loads((FRESHDESK / "ticket_assigned.json").read_text())
        unassigned["agent"] = {"name": "", "email": ""}
        body = json.dumps(unassigned).encode()
        response = client.post("/webhooks/freshdesk", content=body, headers=token)
        assert (response.status_code, response.json()) == (202, {"accepted": 0})
        assert len(publisher.records) == 1


@pytest.mark.parametrize("count", [0, 1001])
def test_events_with_no_event_or_over_a_thousand_is_400_and_dead_lettered_like_other_refusals(
    gateway, count
) -> None:
    client, publisher = gateway
    body = json.dumps([{}] * count).encode()  # counted before any is read
    response = client.post("/events", content=body, headers={"Authorization": "Bearer events-token"})
    assert response.status_code == 400
    assert f"send 1 to 1000 events (one object or a JSON array), not {count}" in response.json()["error"]
    (letter,) = publisher.records
    assert (letter.topic, letter.value) == (topics.DEADLETTER, body)
    assert dict(letter.headers)[ORIGIN_TOPIC_HEADER] == b"http/events"


def test_behind_a_trusted_proxy_each_client_has_its_own_budget_and_others_forwarded_for_is_ignored() -> None:
    settings = GatewaySettings(
        rate_limit="2/minute",
        forwarded_allow_ips="10.0.0.0/24, 192.0.2.1",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, Recording(), VENDORS, load_mappings())

    def codes(client: TestClient, forwarded_for: str | None, times: int = 3) -> list[int]:
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return [client.post("/events", json={}, headers=headers).status_code for _ in range(times)]

    with TestClient(app, client=("10.0.0.5", 40000)) as proxy:  # the proxy, trusted
        assert codes(proxy, "203.0.113.7") == [401, 401, 429]  # a helpdesk's budget, then refused
        assert codes(proxy, "203.0.113.8") == [401, 401, 429]  # another's, its own
        # The client's own X-Forwarded-For comes first; the proxy appends the address it saw.
        assert codes(proxy, "198.51.100.1, 203.0.113.9", 2) == [401, 401]
        assert codes(proxy, "198.51.100.1, 203.0.113.9", 1) == [429]  # 203.0.113.9's, not the made-up one's
        assert codes(proxy, "198.51.100.2, 203.0.113.9, 192.0.2.1", 1) == [429]  # through two trusted proxies
    with TestClient(app, client=("198.51.100.50", 40000)) as stranger:  # no trusted proxy
        assert codes(stranger, "203.0.113.10", 2) == [401, 401]
        assert codes(stranger, "203.0.113.11", 1) == [429]  # its X-Forwarded-For ignored: one budget


def test_the_trusted_proxies_are_addresses_or_networks() -> None:
    with pytest.raises(ValueError, match=r"'proxy\.local' is neither an address nor a network"):
        GatewaySettings(forwarded_allow_ips="10.0.0.5, proxy.local", _env_file=None)  # type: ignore[call-arg]
    assert GatewaySettings(_env_file=None).trusted_proxies() == ["127.0.0.1"]  # type: ignore[call-arg]
