"""Freshdesk automation webhooks with the documented template, as rendered for one ticket
(tests/fixtures/webhooks/freshdesk/TEMPLATE.md and SOURCE.md), to contract events."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.vendors import freshdesk
from connectors.vendors.auth import Unauthorized
from connectors.vendors.mapping import Unmappable, load_mappings
from cxa import events

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks" / "freshdesk"
MAPPING = load_mappings()["freshdesk"]
HEADERS = json.loads((FIXTURES / "headers.json").read_text())
SECRET = HEADERS["_shared_secret"]
NOW = datetime(2026, 12, 10, 10, tzinfo=UTC)


def _payload(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def _events(name: str) -> list[events.EventBase]:
    payload = _payload(name)
    return freshdesk.to_events(payload, MAPPING, freshdesk.delivery({}, payload))


def test_the_shared_secret_comes_as_header_basic_auth_or_url_token() -> None:
    body = (FIXTURES / "ticket_created.json").read_bytes()
    week = timedelta(days=7)
    freshdesk.verify(HEADERS["preferred"], {}, body, SECRET, NOW, week)
    freshdesk.verify(HEADERS["fallback_basic_auth"], {}, body, SECRET, NOW, week)
    freshdesk.verify(HEADERS["fallback_query_token"], {"token": SECRET}, body, SECRET, NOW, week)
    with pytest.raises(Unauthorized, match="wrong token"):
        freshdesk.verify(HEADERS["must_fail"]["wrong_token"], {}, body, SECRET, NOW, week)
    with pytest.raises(Unauthorized, match="X-Cxa-Token"):
        freshdesk.verify(HEADERS["must_fail"]["no_credentials"], {}, body, SECRET, NOW, week)


def test_a_created_ticket_reads_the_template() -> None:
    (created,) = _events("ticket_created.json")
    assert isinstance(created, events.TicketCreated)
    assert created.ticket_id == "freshdesk:4711"
    assert created.customer_id == "freshdesk:mara.lindqvist:example.com"
    assert (created.channel, created.priority) == (events.Channel.EMAIL, events.Priority.NORMAL)
    assert created.body.startswith("Hello,")  # the HTML's text
    assert "<div>" not in created.body
    assert '"payment pending"' in created.body
    assert created.occurred_at == datetime(2026, 12, 10, 9, 14, 5, tzinfo=UTC)


def test_times_are_read_in_the_helpdesks_time_zone() -> None:
    berlin = MAPPING.model_copy(update={"time_zone": "Europe/Berlin"})
    (created,) = freshdesk.to_events(_payload("ticket_created.json"), berlin, "d")
    assert created.occurred_at == datetime(2026, 12, 10, 8, 14, 5, tzinfo=UTC)
    nowhere = MAPPING.model_copy(update={"time_zone": "Mars/Olympus"})
    with pytest.raises(Unmappable, match="time_zone"):
        freshdesk.to_events(_payload("ticket_created.json"), nowhere, "d")


def test_assignment_statuses_replies_and_notes() -> None:
    (assigned,) = _events("ticket_assigned.json")
    assert isinstance(assigned, events.TicketAssigned)
    assert assigned.agent_id == "freshdesk:ana.duarte:example.net"
    (pending,) = _events("ticket_status_changed.json")
    (resolved,) = _events("ticket_resolved.json")
    assert isinstance(pending, events.TicketStatusChanged)
    assert pending.status == events.TicketStatus.PENDING
    assert isinstance(resolved, events.TicketStatusChanged)
    assert resolved.status == events.TicketStatus.SOLVED
    (reply,) = _events("agent_replied.json")
    (note,) = _events("note_added.json")
    (customer,) = _events("customer_replied.json")
    assert isinstance(reply, events.AgentReplied)
    assert reply.is_public
    assert isinstance(note, events.AgentReplied)
    assert not note.is_public
    assert isinstance(customer, events.CustomerReplied)


def test_resolved_back_to_open_is_a_reopen() -> None:
    payload = _payload("ticket_resolved.json")
    payload["ticket"]["status"] = "Open"
    payload["triggered_event"] = "{status:{from:4,to:2}}"
    (reopened,) = freshdesk.to_events(payload, MAPPING, "d")
    assert isinstance(reopened, events.TicketReopened)


def test_what_the_contract_or_the_placeholders_cannot_carry_makes_no_event() -> None:
    assert _events("ticket_priority_changed.json") == []
    assert _events("csat_submitted.json") == []  # no placeholder gives the rating


def test_two_rules_fired_by_one_save_get_different_ids_and_a_resend_the_same() -> None:
    reply, status = _payload("agent_replied.json"), _payload("ticket_status_changed.json")
    assert reply["ticket"]["updated_at"] == status["ticket"]["updated_at"]
    assert freshdesk.delivery({}, reply) != freshdesk.delivery({}, status)
    assert [e.event_id for e in _events("agent_replied.json")] == [
        e.event_id for e in _events("agent_replied.json")
    ]


def test_a_long_email_still_makes_a_valid_id() -> None:
    assert len(freshdesk.person_id("a" * 80 + "@example.com")) <= 64
    assert freshdesk.person_id("Mara+Support@Example.com") == "freshdesk:mara_support:example.com"
