"""Zendesk ticket-event webhooks, from payloads written after Zendesk's documentation
(tests/fixtures/webhooks/zendesk/SOURCE.md), to contract events."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.vendors import zendesk
from connectors.vendors.auth import Unauthorized
from connectors.vendors.mapping import Unmappable, load_mappings
from cxa import events

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks" / "zendesk"
MAPPING = load_mappings()["zendesk"]
HEADERS = json.loads((FIXTURES / "headers.json").read_text())
SECRET = HEADERS["_secret"]
MAX_AGE = timedelta(minutes=5)


def _signed_at(headers: dict[str, str]) -> datetime:
    return datetime.fromisoformat(headers["X-Zendesk-Webhook-Signature-Timestamp"])


def _events(name: str) -> list[events.EventBase]:
    body = (FIXTURES / name).read_bytes()
    headers = HEADERS["deliveries"][name]
    zendesk.verify(headers, {}, body, SECRET, _signed_at(headers) + timedelta(seconds=2), MAX_AGE)
    payload = json.loads(body)
    return zendesk.to_events(payload, MAPPING, zendesk.delivery(headers, payload))


def test_a_created_ticket_carries_its_requester_channel_and_priority() -> None:
    (created,) = _events("ticket_created.json")
    assert isinstance(created, events.TicketCreated)
    assert (created.ticket_id, created.customer_id) == ("zendesk:35436", "zendesk:20978392")
    assert (created.channel, created.priority) == (events.Channel.WEB, events.Priority.NORMAL)
    assert created.subject == "Invoice shows the wrong VAT rate"
    assert created.occurred_at == datetime(2026, 12, 7, 9, 14, 2, tzinfo=UTC)


def test_assignments_and_transfers_name_the_new_agent() -> None:
    (assigned,) = _events("ticket_agent_assignment_changed.json")
    (transferred,) = _events("ticket_agent_assignment_changed_transfer.json")
    assert isinstance(assigned, events.TicketAssigned)
    assert assigned.agent_id == "zendesk:900001"
    assert isinstance(transferred, events.TicketAssigned)
    assert transferred.agent_id == "zendesk:900002"


def test_status_changes_and_a_reopen() -> None:
    (pending,) = _events("ticket_status_changed.json")
    (solved,) = _events("ticket_status_changed_solved.json")
    assert isinstance(pending, events.TicketStatusChanged)
    assert pending.status == events.TicketStatus.PENDING
    assert isinstance(solved, events.TicketStatusChanged)
    assert solved.status == events.TicketStatus.SOLVED
    payload = json.loads((FIXTURES / "ticket_status_changed_solved.json").read_text())
    payload["event"].update(previous="SOLVED", current="OPEN")
    (reopened,) = zendesk.to_events(payload, MAPPING, "d")
    assert isinstance(reopened, events.TicketReopened)


def test_comments_tell_public_replies_internal_notes_and_the_requester_apart() -> None:
    (public,) = _events("ticket_comment_added_public_agent.json")
    (internal,) = _events("ticket_comment_added_internal.json")
    (customer,) = _events("ticket_comment_added_customer.json")
    assert isinstance(public, events.AgentReplied)
    assert public.is_public
    assert public.agent_id == "zendesk:900001"
    assert isinstance(internal, events.AgentReplied)
    assert not internal.is_public
    assert isinstance(customer, events.CustomerReplied)
    assert customer.customer_id == "zendesk:20978392"


def test_a_category_comes_from_a_tag_or_a_configured_field() -> None:
    payload = json.loads((FIXTURES / "ticket_tags_changed.json").read_text())
    assert zendesk.to_events(payload, MAPPING, "d") == []  # no category_ tag
    payload["event"]["tags_added"].append("category_billing")
    (confirmed,) = zendesk.to_events(payload, MAPPING, "d")
    assert isinstance(confirmed, events.TicketCategoryConfirmed)
    assert confirmed.category == "billing"
    field = json.loads((FIXTURES / "ticket_custom_field_changed.json").read_text())
    assert zendesk.to_events(field, MAPPING, "d") == []  # no category field configured
    configured = MAPPING.model_copy(update={"category_field": "360009876543"})
    (corrected,) = zendesk.to_events(field, configured, "d")
    assert isinstance(corrected, events.TicketCategoryCorrected)
    assert (corrected.category, corrected.previous_category) == ("billing_tax_rate", "billing_other")


def test_a_priority_change_is_the_tickets_new_priority_by_the_agent() -> None:
    (changed,) = _events("ticket_priority_changed.json")  # NORMAL -> HIGH by agent 900001
    assert isinstance(changed, events.TicketPriorityChanged)
    assert (changed.priority, changed.agent_id) == (events.Priority.HIGH, "zendesk:900001")
    payload = json.loads((FIXTURES / "ticket_priority_changed.json").read_text())
    payload["event"]["current"] = "NORMAL"  # a change the mapping folds into the same priority
    assert zendesk.to_events(payload, MAPPING, "d") == []


def test_the_csat_triggers_rating_is_a_csat_event_and_a_survey_only_offered_is_none() -> None:
    (rated,) = _events("ticket_satisfaction_rated.json")  # "Good", with a comment
    assert isinstance(rated, events.CsatSubmitted)
    assert (rated.ticket_id, rated.rating) == ("zendesk:35436", 5)
    assert rated.comment == "Quick and clear, thank you!"
    assert rated.occurred_at == datetime(2026, 12, 9, 16, 5, tzinfo=UTC)
    payload = json.loads((FIXTURES / "ticket_satisfaction_rated.json").read_text())
    answers = [
        ("bad", 1),
        ("Good with comment", 5),
        ("Bad, I\u2019m unsatisfied", 1),
        ("4", 4),
        (4, 4),
        (5.0, 5),
    ]
    for answer, rating in answers:  # Zendesk's words, or a five-point survey's number
        (event,) = zendesk.to_events({**payload, "rating": answer, "comment": ""}, MAPPING, "d")
        assert (event.rating, event.comment) == (rating, None)
    assert zendesk.to_events({**payload, "rating": "Offered"}, MAPPING, "d") == []
    for refused in ("so-so", 0, True, 4.5, "6"):
        with pytest.raises(Unmappable, match=r"\[zendesk.ratings\]"):
            zendesk.to_events({**payload, "rating": refused}, MAPPING, "d")
    del payload["detail"]
    with pytest.raises(Unmappable, match=r"detail\.id"):
        zendesk.to_events(payload, MAPPING, "d")


def test_a_csat_answer_is_known_by_its_invocation_so_two_in_one_minute_are_two() -> None:
    payload = json.loads((FIXTURES / "ticket_satisfaction_rated.json").read_text())
    first = {"X-Zendesk-Webhook-Invocation-Id": "9100000012"}
    second = {"X-Zendesk-Webhook-Invocation-Id": "9100000013"}
    assert zendesk.delivery(first, payload) == zendesk.delivery(first, payload)  # a retry
    assert zendesk.delivery(first, payload) != zendesk.delivery(second, payload)
    assert zendesk.delivery({}, payload) == f"None:{payload['id']}"  # without the header: the body's id


def test_a_retry_keeps_the_event_ids() -> None:
    retry = HEADERS["retry_example"]
    body = (FIXTURES / retry["body_file"]).read_bytes()
    zendesk.verify(retry["headers"], {}, body, SECRET, _signed_at(retry["headers"]), MAX_AGE)
    payload = json.loads(body)
    again = zendesk.to_events(payload, MAPPING, zendesk.delivery(retry["headers"], payload))
    assert [e.event_id for e in again] == [e.event_id for e in _events(retry["body_file"])]


def test_signatures_wrong_reordered_reserialized_or_old_are_refused() -> None:
    body = (FIXTURES / "ticket_created.json").read_bytes()
    good = HEADERS["deliveries"]["ticket_created.json"]
    now = _signed_at(good)
    zendesk.verify(good, {}, body, SECRET, now, MAX_AGE)
    negative = HEADERS["negative_examples"]
    reordered = {
        **good,
        "X-Zendesk-Webhook-Signature": negative["body_then_timestamp_order"]["X-Zendesk-Webhook-Signature"],
    }
    with pytest.raises(Unauthorized, match="does not match"):
        zendesk.verify(reordered, {}, body, SECRET, now, MAX_AGE)
    with pytest.raises(Unauthorized, match="does not match"):
        zendesk.verify(good, {}, negative["reserialized_body"]["body"].encode(), SECRET, now, MAX_AGE)
    with pytest.raises(Unauthorized, match="does not match"):
        zendesk.verify(good, {}, body, "not-the-secret", now, MAX_AGE)
    with pytest.raises(Unauthorized, match="more than 300 s"):  # a captured delivery replayed later
        zendesk.verify(good, {}, body, SECRET, now + timedelta(minutes=6), MAX_AGE)
    with pytest.raises(Unauthorized, match="no X-Zendesk-Webhook-Signature"):
        zendesk.verify({}, {}, body, SECRET, now, MAX_AGE)
    lowered = {key.lower(): value for key, value in good.items()}  # Zendesk sends them lower-case
    zendesk.verify(lowered, {}, body, SECRET, now, MAX_AGE)


def test_a_tags_change_in_another_shape_still_gives_the_category() -> None:
    """SOURCE.md: the key names of ticket.tags_changed are unverified, so the other shapes count too."""
    payload = json.loads((FIXTURES / "ticket_tags_changed.json").read_text())
    event = payload["event"]
    del event["tags_added"], event["tags_removed"]
    event.update(current=["billing", "category_refund"], previous=["billing", "category_invoice"])
    (corrected,) = zendesk.to_events(payload, MAPPING, "d1")
    assert isinstance(corrected, events.TicketCategoryCorrected)
    assert (corrected.category, corrected.previous_category) == ("refund", "invoice")
    assert corrected.agent_id == "zendesk:900001"
    del event["current"], event["previous"]  # no change at all: the ticket's tags after it
    assert zendesk.to_events(payload, MAPPING, "d2") == []  # no category_ tag among them
    payload["detail"]["tags"].append("category_billing")
    (confirmed,) = zendesk.to_events(payload, MAPPING, "d3")
    assert isinstance(confirmed, events.TicketCategoryConfirmed)
    assert confirmed.category == "billing"


def test_events_the_platform_does_not_keep_make_none_and_a_body_of_no_known_type_is_refused() -> None:
    payload = json.loads((FIXTURES / "ticket_priority_changed.json").read_text())
    for ignored in ("zen:event-type:ticket.subject_changed", "zen:event-type:user.created"):
        assert zendesk.to_events({**payload, "type": ignored}, MAPPING, "d") == []
    csat = json.loads((FIXTURES / "ticket_satisfaction_rated.json").read_text())
    for wrong in ("cxa:ticket.satisfaction_rate", "", None):  # a typo in the CSAT trigger's body
        with pytest.raises(Unmappable, match=r"neither a Zendesk event .* nor the CSAT trigger's"):
            zendesk.to_events({**csat, "type": wrong}, MAPPING, "d")
    without_ticket = {**payload, "detail": {}, "subject": None}
    with pytest.raises(Unmappable, match=r"ticket\.priority_changed event without its ticket"):
        zendesk.to_events(without_ticket, MAPPING, "d")


def _first_comment(author: str, is_staff: bool, seconds_after: float, body: str | None = None) -> dict:
    """A comment_added as Zendesk would send it for a ticket's first comment, should it."""
    created = json.loads((FIXTURES / "ticket_created.json").read_text())
    payload = json.loads((FIXTURES / "ticket_comment_added_customer.json").read_text())
    payload["detail"] = created["detail"]
    at = datetime(2026, 12, 7, 9, 14, 2, tzinfo=UTC) + timedelta(seconds=seconds_after)
    payload["time"] = at.isoformat()
    comment = payload["event"]["comment"]
    comment["author"].update(id=author, is_staff=is_staff)
    comment["body"] = created["detail"]["description"] if body is None else body
    return payload


def test_the_tickets_first_comment_is_its_description_and_nobodys_reply() -> None:
    assert zendesk.to_events(_first_comment("20978392", False, 0.4), MAPPING, "d") == []
    assert zendesk.to_events(_first_comment("900001", True, 0.4), MAPPING, "d") == []  # an agent's ticket
    # A comment with other text, or the same text later, is a reply as before.
    (other,) = zendesk.to_events(_first_comment("20978392", False, 5, "Also: order 1187."), MAPPING, "d")
    (later,) = zendesk.to_events(_first_comment("20978392", False, 3600), MAPPING, "d")
    assert isinstance(other, events.CustomerReplied)
    assert isinstance(later, events.CustomerReplied)
