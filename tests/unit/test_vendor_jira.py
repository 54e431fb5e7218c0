"""Jira Service Management webhooks, from payloads written after Atlassian's documentation
(tests/fixtures/webhooks/jira/SOURCE.md), to contract events."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.vendors import jira
from connectors.vendors.auth import Unauthorized
from connectors.vendors.mapping import Unmappable, load_mappings
from cxa import events

FIXTURES = Path(__file__).parents[1] / "fixtures" / "webhooks" / "jira"
MAPPING = load_mappings()["jira"]
HEADERS = json.loads((FIXTURES / "headers.json").read_text())
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _events(name: str) -> list[events.EventBase]:
    body = (FIXTURES / name).read_bytes()
    headers = HEADERS["deliveries"][name]
    jira.verify(headers, {}, body, HEADERS["_secret"], NOW, timedelta(minutes=5))
    payload = json.loads(body)
    return jira.to_events(payload, MAPPING, jira.delivery(headers, payload))


def test_a_created_request_is_a_ticket_of_its_reporter() -> None:
    (created,) = _events("issue_created.json")
    assert isinstance(created, events.TicketCreated)
    assert created.ticket_id == "jira:10042"
    assert created.customer_id == "jira:qm:customer-0001"
    assert created.priority == events.Priority.NORMAL  # Medium
    assert created.subject == "VPN keeps disconnecting"
    assert created.body.startswith("Since this morning the VPN client drops")
    assert created.occurred_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_a_priority_change_maps_through_the_priorities() -> None:
    (changed,) = _events("issue_updated_priority.json")  # Medium -> High
    assert isinstance(changed, events.TicketPriorityChanged)
    assert changed.priority == events.Priority.HIGH


def test_an_assignment_names_the_new_agent() -> None:
    (assigned,) = _events("issue_updated_assignee.json")
    assert isinstance(assigned, events.TicketAssigned)
    assert assigned.agent_id == "jira:5b10ac8d82e05b22cc7d4ef6"


def test_statuses_map_through_the_mapping() -> None:
    (waiting,) = _events("issue_updated_status.json")
    assert isinstance(waiting, events.TicketStatusChanged)
    assert waiting.status == events.TicketStatus.PENDING  # Waiting for customer
    assert waiting.agent_id == "jira:5b10ac8d82e05b22cc7d4ef6"
    (resolved,) = _events("issue_updated_resolved.json")
    assert isinstance(resolved, events.TicketStatusChanged)
    assert resolved.status == events.TicketStatus.SOLVED


def test_comments_tell_public_replies_internal_notes_and_the_customer_apart() -> None:
    (public,) = _events("comment_created_public_agent.json")
    (internal,) = _events("comment_created_internal.json")
    (customer,) = _events("comment_created_customer.json")
    assert isinstance(public, events.AgentReplied)
    assert public.is_public
    assert isinstance(internal, events.AgentReplied)
    assert not internal.is_public
    assert isinstance(customer, events.CustomerReplied)
    assert customer.customer_id == "jira:qm:customer-0001"


def test_a_category_label_set_by_an_agent_is_a_confirmed_category() -> None:
    payload = json.loads((FIXTURES / "issue_updated_labels.json").read_text())
    payload["changelog"]["items"][0]["toString"] = "urgent category_vpn"
    (confirmed,) = jira.to_events(payload, MAPPING, "d1")
    assert isinstance(confirmed, events.TicketCategoryConfirmed)
    assert confirmed.category == "vpn"
    payload["changelog"]["items"][0].update(fromString="category_vpn", toString="category_network")
    (corrected,) = jira.to_events(payload, MAPPING, "d2")
    assert isinstance(corrected, events.TicketCategoryCorrected)
    assert (corrected.category, corrected.previous_category) == ("network", "vpn")


def test_a_resolved_request_moved_back_is_reopened() -> None:
    payload = json.loads((FIXTURES / "issue_updated_resolved.json").read_text())
    payload["changelog"]["items"][1].update(fromString="Resolved", toString="Waiting for support")
    payload["issue"]["fields"]["status"]["statusCategory"]["key"] = "new"
    (reopened,) = [
        e for e in jira.to_events(payload, MAPPING, "d") if not isinstance(e, events.TicketStatusChanged)
    ]
    assert isinstance(reopened, events.TicketReopened)


def test_an_unknown_status_falls_back_on_its_category_or_names_the_fix() -> None:
    payload = json.loads((FIXTURES / "issue_updated_status.json").read_text())
    payload["changelog"]["items"][0]["toString"] = "Awaiting parts"
    (changed,) = jira.to_events(payload, MAPPING, "d")
    assert changed.status == events.TicketStatus.OPEN  # type: ignore[attr-defined]  # category indeterminate
    del payload["issue"]["fields"]["status"]
    with pytest.raises(Unmappable, match=r"\[jira.statuses\]"):
        jira.to_events(payload, MAPPING, "d")


def test_a_retried_delivery_gets_the_same_event_ids_and_another_delivery_others() -> None:
    first = _events("issue_created.json")
    again = _events("issue_created.json")
    assert [e.event_id for e in first] == [e.event_id for e in again]
    payload = json.loads((FIXTURES / "issue_created.json").read_text())
    other = jira.to_events(payload, MAPPING, "another-delivery")
    assert other[0].event_id != first[0].event_id


def test_a_wrong_or_missing_signature_is_refused() -> None:
    body = (FIXTURES / "issue_created.json").read_bytes()
    headers = HEADERS["deliveries"]["issue_created.json"]
    with pytest.raises(Unauthorized, match="does not match"):
        jira.verify(headers, {}, body + b" ", HEADERS["_secret"], NOW, timedelta(minutes=5))
    with pytest.raises(Unauthorized, match="does not match"):
        jira.verify(headers, {}, body, "another-secret", NOW, timedelta(minutes=5))
    with pytest.raises(Unauthorized, match="no token"):
        jira.verify({}, {}, body, HEADERS["_secret"], NOW, timedelta(minutes=5))
    jira.verify({}, {"token": "s3cret"}, body, "s3cret", NOW, timedelta(minutes=5))  # a URL token instead
    with pytest.raises(Unauthorized, match="wrong token"):
        jira.verify({}, {"token": "guess"}, body, "s3cret", NOW, timedelta(minutes=5))


def test_a_change_out_of_an_unmapped_custom_status_is_not_refused() -> None:
    payload = json.loads((FIXTURES / "issue_updated_status.json").read_text())
    payload["changelog"]["items"][0]["fromString"] = "Awaiting parts"  # in no mapping, no category
    (changed,) = jira.to_events(payload, MAPPING, "d")
    assert isinstance(changed, events.TicketStatusChanged)
    assert changed.status == events.TicketStatus.PENDING  # Waiting for customer


def test_an_unknown_previous_status_is_a_reopen_only_when_its_resolution_is_cleared() -> None:
    payload = json.loads((FIXTURES / "issue_updated_resolved.json").read_text())
    resolution, status = payload["changelog"]["items"]
    status.update(fromString="Fixed by vendor", toString="Waiting for support")  # a custom done status
    payload["issue"]["fields"]["status"]["statusCategory"]["key"] = "new"
    resolution.update(**{"from": None, "fromString": None, "to": None, "toString": None})
    (changed,) = jira.to_events(payload, MAPPING, "d1")
    assert isinstance(changed, events.TicketStatusChanged)  # unknown before: not a reopen
    assert changed.status == events.TicketStatus.OPEN
    resolution.update(**{"from": "10000", "fromString": "Done"})  # cleared: it was resolved
    (reopened,) = jira.to_events(payload, MAPPING, "d2")
    assert isinstance(reopened, events.TicketReopened)


def test_only_a_customer_account_tells_a_customers_comment_apart() -> None:
    """comment_created carries no reporter: an Atlassian (licensed) account counts as an agent."""
    payload = json.loads((FIXTURES / "comment_created_customer.json").read_text())
    payload["comment"]["author"]["accountType"] = "atlassian"
    (reply,) = jira.to_events(payload, MAPPING, "d")
    assert isinstance(reply, events.AgentReplied)
    assert reply.agent_id == "jira:qm:customer-0001"


def test_events_the_platform_does_not_keep_make_none_and_a_body_without_its_event_is_refused() -> None:
    worklog = {"webhookEvent": "worklog_created", "worklog": {"id": "1"}, "timestamp": 1765000000000}
    assert jira.to_events(worklog, MAPPING, "d") == []
    payload = json.loads((FIXTURES / "issue_created.json").read_text())
    del payload["webhookEvent"]
    with pytest.raises(Unmappable, match="no webhookEvent"):
        jira.to_events(payload, MAPPING, "d")
