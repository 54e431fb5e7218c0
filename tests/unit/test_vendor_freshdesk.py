"""Freshdesk automation webhooks with the documented template, as rendered for one ticket
(tests/fixtures/webhooks/freshdesk/TEMPLATE.md and SOURCE.md), to contract events."""

import itertools
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


def test_a_priority_change_is_the_tickets_new_priority() -> None:
    (changed,) = _events("ticket_priority_changed.json")  # Medium -> High
    assert isinstance(changed, events.TicketPriorityChanged)
    assert changed.priority == events.Priority.HIGH


def test_each_customer_feedback_rule_sends_its_answer_as_the_rating() -> None:
    (rated,) = _events("csat_submitted.json")  # "Awesome"
    assert isinstance(rated, events.CsatSubmitted)
    assert (rated.ticket_id, rated.rating, rated.comment) == ("freshdesk:4711", 5, None)
    payload = _payload("csat_submitted.json")
    answers = {"Not Good": 1, "neutral": 3, "2": 2}
    ids = set()
    for answer, rating in answers.items():
        again = {**payload, "rating": answer}
        (event,) = freshdesk.to_events(again, MAPPING, freshdesk.delivery({}, again))
        assert event.rating == rating
        ids.add(event.event_id)
    assert len(ids) == len(answers)  # an answer changed at the same update time is a new event
    three_point = MAPPING.model_copy(update={"ratings": {**MAPPING.ratings, "3": 5, "2": 3, "1": 1}})
    (top,) = freshdesk.to_events({**payload, "rating": "3"}, three_point, "d")
    assert top.rating == 5  # a survey numbered 1-3, mapped, wins over the number as it is
    del payload["rating"]
    with pytest.raises(Unmappable, match="rule 8"):  # a rule written before ratings were sent
        freshdesk.to_events(payload, MAPPING, "d")


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


def test_a_reply_or_note_is_credited_to_who_made_it_else_the_assigned_agent() -> None:
    payload = _payload("note_added.json")  # Ana holds the ticket, Tomas wrote the note
    (note,) = freshdesk.to_events(payload, MAPPING, "d1")
    assert note.agent_id == "freshdesk:tomas.berg:example.net"  # type: ignore[attr-defined]
    payload["performer"] = {"name": "", "email": ""}  # an account that does not render it
    (note,) = freshdesk.to_events(payload, MAPPING, "d2")
    assert note.agent_id == "freshdesk:ana.duarte:example.net"  # type: ignore[attr-defined]
    payload["agent"] = {"name": "", "email": ""}
    (note,) = freshdesk.to_events(payload, MAPPING, "d3")
    assert note.agent_id == freshdesk.UNASSIGNED  # type: ignore[attr-defined]


def test_a_public_note_is_a_public_reply() -> None:
    (note,) = _events("public_note_added.json")
    assert isinstance(note, events.AgentReplied)
    assert note.is_public
    assert note.agent_id == "freshdesk:tomas.berg:example.net"


def test_the_category_comes_with_the_delivery_that_resolves_the_ticket() -> None:
    payload = _payload("ticket_resolved.json")
    payload["ticket"]["tags"] = "billing, category_refund, invoice"
    resolved, confirmed = freshdesk.to_events(payload, MAPPING, "d1")
    assert isinstance(resolved, events.TicketStatusChanged)
    assert isinstance(confirmed, events.TicketCategoryConfirmed)
    assert (confirmed.category, confirmed.agent_id) == ("refund", "freshdesk:ana.duarte:example.net")
    closed = {**payload, "triggered_event": "{status:{from:4,to:5}}", "ticket": {**payload["ticket"]}}
    closed["ticket"]["status"] = "Closed"
    (_,) = freshdesk.to_events(closed, MAPPING, "d2")  # already resolved: labelled once
    pending = _payload("ticket_status_changed.json")
    pending["ticket"]["tags"] = payload["ticket"]["tags"]
    (_,) = freshdesk.to_events(pending, MAPPING, "d3")  # not resolved: the category may still change
    payload["ticket"]["category"] = "Duplicate charge"  # "{{ticket.cf_category}}" added to the body
    configured = MAPPING.model_copy(update={"category_field": "category"})
    _, field = freshdesk.to_events(payload, configured, "d4")
    assert field.category == "Duplicate charge"  # type: ignore[attr-defined]


def _rule_events(markdown: str, heading: str) -> set[str]:
    """The `event` column of the first table under ``heading``."""
    lines = markdown[markdown.index(heading) :].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    header = table[0].strip("|").split("|")
    column = next(i for i, cell in enumerate(header) if "`" in cell and "event" in cell)
    return {row.strip("|").split("|")[column].strip().strip("`") for row in table[2:]}


def _template_body(markdown: str, heading: str) -> dict:
    text = markdown[markdown.index(heading) :]
    return json.loads(text[text.index("```json") + 7 : text.index("```", text.index("```json") + 7)])


def _leaves(body: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in body.items():
        out.update(_leaves(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key: value})
    return out


def test_every_documented_rule_makes_an_event_and_the_two_documents_agree() -> None:
    template = (FIXTURES / "TEMPLATE.md").read_text()
    guide = (Path(__file__).parents[2] / "docs" / "helpdesks.md").read_text()
    rules = _rule_events(template, "## 4. Automation rules")
    assert rules == _rule_events(guide, "## Freshdesk")
    fixtures = {name.name: _payload(name.name) for name in FIXTURES.glob("*.json")}
    for rule in rules:
        sent = [name for name, payload in fixtures.items() if payload.get("event") == rule]
        assert sent, f"no fixture for the rule sending {rule}"
        assert all(_events(name) for name in sent), f"{rule} makes no event"
    documented = _leaves(_template_body(guide, "## Freshdesk"))
    assert documented.items() <= _leaves(_template_body(template, "## 2. JSON body")).items()
    assert "performer.email" in documented
    assert "`https://<platform-host>/webhooks/freshdesk`" in template
    assert "https://cxa.example.com/webhooks/freshdesk" in guide


@pytest.mark.parametrize("event", ["ticket_create", "", None, "Ticket_Created"])
def test_a_body_of_our_template_with_an_event_we_do_not_know_is_refused_naming_the_fix(event) -> None:
    payload = _payload("ticket_created.json")
    payload["event"] = event  # a typo in the rule's body
    with pytest.raises(Unmappable, match=r"none of the template's \(ticket_created, .*docs/helpdesks.md"):
        freshdesk.to_events(payload, MAPPING, "d")
    simple = {"freshdesk_webhook": {"ticket_id": "4711"}}  # Freshdesk's Simple content, not our body
    with pytest.raises(Unmappable, match="none of the template's"):
        freshdesk.to_events(simple, MAPPING, "d")


def test_a_customer_reply_without_the_requesters_email_is_refused() -> None:
    payload = _payload("customer_replied.json")
    payload["requester"]["email"] = ""
    with pytest.raises(Unmappable, match=r"customer_replied without requester.email"):
        freshdesk.to_events(payload, MAPPING, "d")


def test_an_agent_removed_from_a_ticket_makes_no_event_as_the_contract_has_no_unassignment() -> None:
    payload = _payload("ticket_assigned.json")
    payload["agent"] = {"name": "", "email": ""}
    assert freshdesk.to_events(payload, MAPPING, "d") == []
