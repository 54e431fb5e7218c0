"""Write-back of routing decisions: each helpdesk's assignment call, retries, refusals, agent ids."""

import base64
import json
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import httpx
import pytest

from connectors.settings import WritebackSettings
from connectors.vendors import VENDORS
from connectors.writeback import Writeback, WritebackStopped
from cxa.events import TicketRouted, serialize

T0 = datetime(2026, 12, 2, 10, tzinfo=UTC)


def _decision(ticket_id: str, agent_id: str) -> TicketRouted:
    return TicketRouted(
        ticket_id=ticket_id, occurred_at=T0, agent_id=agent_id, policy="optimizer", score=1.0, solver_ms=1.0
    )


class Remembered:
    """The decisions taken on, as live.writeback_decisions keeps them (tests/integration does)."""

    def __init__(self) -> None:
        self.claims: dict[UUID, TicketRouted] = {}
        self.forgotten_before: datetime | None = None

    def claim(self, vendor: str, decisions: Sequence[TicketRouted]) -> set[UUID]:
        fresh = {d.event_id for d in decisions} - set(self.claims)
        self.claims.update({d.event_id: d for d in decisions if d.event_id in fresh})
        return fresh

    def release(self, ids: Collection[UUID]) -> None:
        for decision_id in ids:
            del self.claims[decision_id]

    def forget(self, vendor: str, before: datetime) -> None:
        self.forgotten_before = before
        self.claims = {k: d for k, d in self.claims.items() if d.occurred_at >= before}


def _writeback(
    vendor: str, answers: list[int], tmp_path: Path, agents: str = "", ledger: Remembered | None = None
) -> tuple[Writeback, list[httpx.Request], list[float]]:
    calls: list[httpx.Request] = []
    waits: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        status = answers[min(len(calls), len(answers)) - 1]
        return httpx.Response(status, headers={"Retry-After": "7"} if status == 429 else {}, json={})

    agents_file = None
    if agents:
        agents_file = tmp_path / "agents.csv"
        agents_file.write_text(agents)
    settings = WritebackSettings(
        base_url="https://helpdesk.example/",
        user="bot@example.com",
        token="tok3n",
        agents_file=agents_file,
        max_attempts=3,
        _env_file=None,  # type: ignore[call-arg]
    )
    client = httpx.Client(
        base_url="https://helpdesk.example/base/",
        headers=VENDORS[vendor].credentials(settings.user, "tok3n"),
        transport=httpx.MockTransport(answer),
    )
    writeback = Writeback(
        VENDORS[vendor],
        settings,
        client,
        sleep=waits.append,
        now=lambda: T0 + timedelta(minutes=5),
        ledger=ledger,
    )
    return writeback, calls, waits


@pytest.mark.parametrize(
    ("vendor", "ticket", "agent", "method", "path", "body", "auth"),
    [
        (
            "zendesk",
            "zendesk:35436",
            "zendesk:900002",
            "PUT",
            "/base/api/v2/tickets/35436",
            {"ticket": {"assignee_id": 900002}},
            "Basic " + base64.b64encode(b"bot@example.com/token:tok3n").decode(),
        ),
        (
            "freshdesk",
            "freshdesk:4711",
            "freshdesk:61000000001",
            "PUT",
            "/base/api/v2/tickets/4711",
            {"responder_id": 61000000001},
            "Basic " + base64.b64encode(b"tok3n:X").decode(),
        ),
        (
            "jira",
            "jira:10042",
            "jira:5b10ac8d82e05b22cc7d4ef6",
            "PUT",
            "/base/rest/api/3/issue/10042/assignee",
            {"accountId": "5b10ac8d82e05b22cc7d4ef6"},
            "Basic " + base64.b64encode(b"bot@example.com:tok3n").decode(),
        ),
        (
            "chatwoot",
            "chatwoot:1234",
            "chatwoot:12",
            "POST",
            "/base/conversations/1234/assignments",
            {"assignee_id": 12},
            None,
        ),
    ],
)
def test_each_helpdesk_gets_its_own_assignment_call(
    vendor, ticket, agent, method, path, body, auth, tmp_path
) -> None:
    writeback, calls, _ = _writeback(vendor, [200], tmp_path)
    writeback.handle([serialize(_decision(ticket, agent))])
    (call,) = calls
    assert (call.method, call.url.path, json.loads(call.content)) == (method, path, body)
    if auth:
        assert call.headers["Authorization"] == auth
    else:
        assert call.headers["api_access_token"] == "tok3n"
    assert writeback.tally.applied == 1


def test_429_waits_its_retry_after_and_a_refusal_is_not_retried(tmp_path) -> None:
    writeback, calls, waits = _writeback("zendesk", [429, 200], tmp_path)
    writeback.apply(_decision("zendesk:1", "zendesk:2"))
    assert (len(calls), waits, writeback.tally.applied) == (2, [7.0], 1)
    writeback, calls, waits = _writeback("zendesk", [422], tmp_path)
    writeback.apply(_decision("zendesk:1", "zendesk:2"))
    assert (len(calls), waits, writeback.tally.refused) == (1, [], 1)


def test_a_helpdesk_that_keeps_failing_stops_the_connector_after_the_limit(tmp_path) -> None:
    writeback, calls, waits = _writeback("jira", [503], tmp_path)
    with pytest.raises(WritebackStopped, match=r"after 3 tries \(HTTP 503\): is jira up\?"):
        writeback.apply(_decision("jira:1", "jira:abc"))
    assert (len(calls), len(waits), writeback.tally.given_up) == (3, 2, 1)


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_stop_the_connector_at_once_and_name_the_fix(tmp_path, status) -> None:
    writeback, calls, waits = _writeback("zendesk", [status], tmp_path)
    with pytest.raises(WritebackStopped, match="check CXA_WRITEBACK_USER and CXA_WRITEBACK_TOKEN"):
        writeback.handle([serialize(_decision("zendesk:1", "zendesk:2"))])
    assert (len(calls), waits, writeback.tally.refused) == (1, [], 0)


def test_only_this_helpdesks_tickets_and_the_latest_decision_per_ticket(tmp_path) -> None:
    writeback, calls, _ = _writeback(
        "zendesk", [200], tmp_path, agents="agent_id,vendor_user_id\nA17,900017\n"
    )
    writeback.handle(
        [
            serialize(_decision("zendesk:1", "zendesk:900001")),
            serialize(_decision("jira:9", "jira:abc")),  # another helpdesk's
            serialize(_decision("zendesk:1", "A17")),  # supersedes the first; mapped by the agents file
            serialize(_decision("zendesk:2", "A99")),  # no zendesk user: skipped with a warning
            b"not a decision",
        ]
    )
    assert [(c.url.path, json.loads(c.content)) for c in calls] == [
        ("/base/api/v2/tickets/1", {"ticket": {"assignee_id": 900017}})
    ]
    assert (writeback.tally.applied, writeback.tally.skipped) == (1, 1)


def test_an_agent_known_only_by_email_is_skipped_until_the_agents_file_numbers_it(tmp_path, caplog) -> None:
    # Freshdesk's webhooks name agents by email; its API assigns by the agent's number.
    agent = "freshdesk:jane:example.com"
    writeback, calls, _ = _writeback("freshdesk", [200], tmp_path)
    writeback.handle([serialize(_decision("freshdesk:4711", agent))])
    assert calls == []
    assert writeback.tally.skipped == 1
    assert f"add '{agent},<user id>' to CXA_WRITEBACK_AGENTS_FILE" in caplog.text

    writeback, calls, _ = _writeback("freshdesk", [200], tmp_path, agents=f"{agent},61000000007\n")
    writeback.handle([serialize(_decision("freshdesk:4711", agent))])
    assert [json.loads(c.content) for c in calls] == [{"responder_id": 61000000007}]


def test_a_dry_run_calls_nothing(tmp_path) -> None:
    settings = WritebackSettings(_env_file=None)  # type: ignore[call-arg]
    writeback = Writeback(VENDORS["chatwoot"], settings, None, now=lambda: T0)
    writeback.handle([serialize(_decision("chatwoot:1", "chatwoot:2"))])
    assert writeback.tally.applied == 1


def test_a_decision_older_than_the_maximum_age_is_stale_and_not_applied(tmp_path) -> None:
    writeback, calls, _ = _writeback("zendesk", [200], tmp_path)
    old = TicketRouted(
        ticket_id="zendesk:41",
        occurred_at=T0 - timedelta(hours=2),
        agent_id="zendesk:7",
        policy="optimizer",
        score=1.0,
        solver_ms=1.0,
    )
    writeback.handle([serialize(old), serialize(_decision("zendesk:42", "zendesk:7"))])
    assert [request.url.path for request in calls] == ["/base/api/v2/tickets/42"]
    assert (writeback.tally.applied, writeback.tally.stale) == (1, 1)


def test_a_decision_delivered_again_in_a_later_batch_or_after_a_restart_is_not_applied_again(
    tmp_path,
) -> None:
    ledger = Remembered()
    writeback, calls, _ = _writeback("zendesk", [200], tmp_path, ledger=ledger)
    decision = serialize(_decision("zendesk:1", "zendesk:900001"))
    writeback.handle([decision])
    writeback.handle([decision])  # a later batch: the same message again
    restarted, calls_after, _ = _writeback("zendesk", [200], tmp_path, ledger=ledger)
    restarted.handle([decision, serialize(_decision("zendesk:2", "zendesk:900001"))])
    assert [c.url.path for c in calls] == ["/base/api/v2/tickets/1"]
    assert [c.url.path for c in calls_after] == ["/base/api/v2/tickets/2"]
    assert (writeback.tally.applied, writeback.tally.repeated) == (1, 1)
    assert (restarted.tally.applied, restarted.tally.repeated) == (1, 1)


def test_a_superseded_decision_delivered_again_alone_does_not_undo_the_latest(tmp_path) -> None:
    ledger = Remembered()
    writeback, calls, _ = _writeback("zendesk", [200], tmp_path, ledger=ledger)
    first, second = _decision("zendesk:1", "zendesk:900001"), _decision("zendesk:1", "zendesk:900002")
    writeback.handle([serialize(first), serialize(second)])
    writeback.handle([serialize(first)])  # after a restart the batch may be cut after the first
    assert [json.loads(c.content) for c in calls] == [{"ticket": {"assignee_id": 900002}}]


def test_a_stop_releases_the_decisions_not_applied_so_the_restart_applies_them(tmp_path) -> None:
    ledger = Remembered()
    writeback, _, _ = _writeback("zendesk", [503], tmp_path, ledger=ledger)
    batch = [serialize(_decision("zendesk:1", "zendesk:7")), serialize(_decision("zendesk:2", "zendesk:7"))]
    with pytest.raises(WritebackStopped):
        writeback.handle(batch)
    assert ledger.claims == {}
    restarted, calls, _ = _writeback("zendesk", [200], tmp_path, ledger=ledger)
    restarted.handle(batch)
    assert [c.url.path for c in calls] == ["/base/api/v2/tickets/1", "/base/api/v2/tickets/2"]


def test_decisions_older_than_the_maximum_age_are_forgotten_and_stale_ones_never_claimed(tmp_path) -> None:
    ledger = Remembered()
    writeback, calls, _ = _writeback("zendesk", [200], tmp_path, ledger=ledger)
    old = _decision("zendesk:1", "zendesk:7").model_copy(update={"occurred_at": T0 - timedelta(hours=2)})
    writeback.handle([serialize(old), serialize(_decision("zendesk:2", "zendesk:7"))])
    assert [d.ticket_id for d in ledger.claims.values()] == ["zendesk:2"]
    assert ledger.forgotten_before == T0 + timedelta(minutes=5) - timedelta(hours=1)
    assert len(calls) == 1
