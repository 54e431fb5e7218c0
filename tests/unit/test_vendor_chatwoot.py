"""Chatwoot webhooks, from payloads written after Chatwoot's documentation and source
(tests/fixtures/webhooks/chatwoot/SOURCE.md), to contract events."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.vendors import chatwoot
from connectors.vendors.auth import Unauthorized, hex_signature
from connectors.vendors.mapping import Unmappable, load_mappings
from cxa import events

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks" / "chatwoot"
MAPPING = load_mappings()["chatwoot"]
MAX_AGE = timedelta(minutes=5)


def _events(name: str, delivery: str | None = None) -> list[events.EventBase]:
    payload = json.loads((FIXTURES / name).read_text())
    headers = {"X-Chatwoot-Delivery": delivery or f"delivery-of-{name}"}
    return chatwoot.to_events(payload, MAPPING, chatwoot.delivery(headers, payload))


def test_the_documented_signature_example_verifies() -> None:
    """NOTES.md's worked example: secret, timestamp and body, and the signature Chatwoot sends."""
    body = b'{"event":"message_created","id":88001}'
    headers = {
        "X-Chatwoot-Timestamp": "1796292002",
        "X-Chatwoot-Signature": "sha256=6e7bc76995db0dc7d2e8723db3a7321edff60c045faca5bb1a76c5979e7fbb96",
    }
    now = datetime.fromtimestamp(1796292010, tz=UTC)
    chatwoot.verify(headers, {}, body, "test-secret-not-real", now, MAX_AGE)
    with pytest.raises(Unauthorized, match="does not match"):
        chatwoot.verify(headers, {}, body + b" ", "test-secret-not-real", now, MAX_AGE)
    with pytest.raises(Unauthorized, match="more than 300 s"):
        chatwoot.verify(headers, {}, body, "test-secret-not-real", now + timedelta(hours=1), MAX_AGE)


def test_an_unsigned_webhook_needs_the_url_token() -> None:
    body = (FIXTURES / "conversation_created.json").read_bytes()
    now = datetime(2026, 12, 3, 10, tzinfo=UTC)
    chatwoot.verify({}, {"token": "t0ken"}, body, "t0ken", now, MAX_AGE)
    with pytest.raises(Unauthorized, match="no token"):
        chatwoot.verify({}, {}, body, "t0ken", now, MAX_AGE)
    with pytest.raises(Unauthorized, match="wrong token"):
        chatwoot.verify({}, {"token": "guess"}, body, "t0ken", now, MAX_AGE)
    stamp = "1796292000"
    signed = {
        "X-Chatwoot-Timestamp": stamp,
        "X-Chatwoot-Signature": "sha256=" + hex_signature("t0ken", stamp.encode() + b"." + body),
    }
    chatwoot.verify(signed, {}, body, "t0ken", datetime.fromtimestamp(1796292001, tz=UTC), MAX_AGE)


def test_a_conversation_is_a_ticket_of_its_contact() -> None:
    (created,) = _events("conversation_created.json")
    assert isinstance(created, events.TicketCreated)
    assert (created.ticket_id, created.customer_id) == ("chatwoot:1234", "chatwoot:501")
    assert created.channel == events.Channel.CHAT  # web widget
    assert created.priority == events.Priority.NORMAL  # none set
    assert created.body == "Hi, my November invoice shows the same charge twice. Can you check?"
    assert created.occurred_at == datetime.fromtimestamp(1796292000, tz=UTC)


def test_statuses_resolve_snooze_and_reopen() -> None:
    (resolved,) = _events("conversation_status_changed_resolved.json")
    (snoozed,) = _events("conversation_status_changed_snoozed.json")
    assert isinstance(resolved, events.TicketStatusChanged)
    assert resolved.status == events.TicketStatus.SOLVED
    assert isinstance(snoozed, events.TicketStatusChanged)
    assert snoozed.status == events.TicketStatus.ON_HOLD
    payload = json.loads((FIXTURES / "conversation_status_changed_resolved.json").read_text())
    payload["changed_attributes"] = [{"status": {"previous_value": "resolved", "current_value": "open"}}]
    (reopened,) = chatwoot.to_events(payload, MAPPING, "d")
    assert isinstance(reopened, events.TicketReopened)


def test_an_assignment_change_and_category_labels() -> None:
    (assigned,) = _events("conversation_updated_assignee.json")
    assert isinstance(assigned, events.TicketAssigned)
    assert assigned.agent_id == "chatwoot:12"
    (prioritised,) = _events("conversation_updated_priority.json")  # none (normal) -> high
    assert isinstance(prioritised, events.TicketPriorityChanged)
    assert prioritised.priority == events.Priority.HIGH
    assert _events("conversation_updated_labels.json") == []  # billing, refund: no category_ label
    payload = json.loads((FIXTURES / "conversation_updated_labels.json").read_text())
    payload["changed_attributes"][0]["label_list"]["current_value"].append("category_refund")
    (labelled,) = chatwoot.to_events(payload, MAPPING, "d")
    assert isinstance(labelled, events.TicketCategoryConfirmed)
    assert labelled.category == "refund"


def _later_reply() -> dict:
    """The contact writing again ten minutes after the agent's first reply."""
    payload = json.loads((FIXTURES / "message_created_incoming.json").read_text())
    payload.update(id=88010, created_at="2026-12-03T10:30:00.000Z", content="Still waiting for the refund.")
    payload["conversation"]["first_reply_created_at"] = 1796292075
    return payload


def test_the_opening_message_is_the_ticket_and_not_a_customer_reply() -> None:
    # Chatwoot sends the contact's first message in conversation_created and as a message_created.
    (created, *_) = _events("conversation_created.json")
    assert isinstance(created, events.TicketCreated)
    assert created.body.startswith(
        json.loads((FIXTURES / "message_created_incoming.json").read_text())["content"][:20]
    )
    assert _events("message_created_incoming.json") == []
    # A second message in the opening minute, before any agent replied, is still the request.
    payload = json.loads((FIXTURES / "message_created_incoming.json").read_text())
    payload.update(id=88002, created_at="2026-12-03T10:00:40.000Z")
    assert chatwoot.to_events(payload, MAPPING, "d-second") == []
    payload.update(created_at="2026-12-03T10:01:30.000Z")  # after the opening minute: a reply
    assert [type(e) for e in chatwoot.to_events(payload, MAPPING, "d-late")] == [events.CustomerReplied]


def test_messages_tell_the_contact_public_replies_and_private_notes_apart() -> None:
    (incoming,) = chatwoot.to_events(_later_reply(), MAPPING, "d-reply")
    (outgoing,) = _events("message_created_outgoing.json")
    (private,) = _events("message_created_private.json")
    assert isinstance(incoming, events.CustomerReplied)
    assert incoming.customer_id == "chatwoot:501"
    assert isinstance(outgoing, events.AgentReplied)
    assert outgoing.is_public
    assert outgoing.agent_id == "chatwoot:12"
    assert isinstance(private, events.AgentReplied)
    assert not private.is_public


def test_the_csat_answer_is_a_rating() -> None:
    (rated,) = _events("message_updated_csat.json")
    assert isinstance(rated, events.CsatSubmitted)
    assert (rated.rating, rated.comment) == (5, "Quick fix, thanks!")


def test_contacts_are_not_tickets_and_a_delivery_keeps_its_ids() -> None:
    assert _events("contact_created.json") == []
    first, again = (
        chatwoot.to_events(_later_reply(), MAPPING, "d1"),
        chatwoot.to_events(_later_reply(), MAPPING, "d1"),
    )
    assert len(first) == 1
    assert [e.event_id for e in first] == [e.event_id for e in again]
    payload = json.loads((FIXTURES / "message_created_incoming.json").read_text())
    assert chatwoot.delivery({}, payload) == chatwoot.delivery({}, payload)  # no header: from the content


def test_a_body_without_its_event_is_refused() -> None:
    payload = json.loads((FIXTURES / "message_created_incoming.json").read_text())
    del payload["event"]
    with pytest.raises(Unmappable, match="no event"):
        chatwoot.to_events(payload, MAPPING, "d")
