from datetime import UTC, datetime

import pytest

from cxa import events, topics
from stream_processors.validation import deadletter_headers, validate

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TICKET = events.TicketCreated(
    ticket_id="T1", occurred_at=WHEN, customer_id="C1", channel="web", priority="low", subject="s", body="b"
)
AGENT = events.AgentStatusChanged(agent_id="A1", occurred_at=WHEN, status="online")


def test_valid_events_pass_on_their_own_topic() -> None:
    assert validate(topics.TICKET_EVENTS, b"T1", events.serialize(TICKET)) == TICKET
    assert validate(topics.AGENT_EVENTS, b"A1", events.serialize(AGENT)) == AGENT
    assert validate(topics.TICKET_EVENTS, None, events.serialize(TICKET)) == TICKET


def test_an_event_on_the_wrong_topic_is_invalid() -> None:
    with pytest.raises(events.InvalidEvent, match=r"agent\.status_changed"):
        validate(topics.TICKET_EVENTS, b"A1", events.serialize(AGENT))
    with pytest.raises(events.InvalidEvent, match=r"ticket\.created"):
        validate(topics.AGENT_EVENTS, b"T1", events.serialize(TICKET))


def test_the_key_must_be_the_entity_id() -> None:
    with pytest.raises(events.InvalidEvent, match="key 'T2' is not the event's entity id 'T1'"):
        validate(topics.TICKET_EVENTS, b"T2", events.serialize(TICKET))


def test_empty_messages_and_unknown_topics_are_invalid() -> None:
    with pytest.raises(events.InvalidEvent, match="no value"):
        validate(topics.TICKET_EVENTS, b"T1", None)
    with pytest.raises(events.InvalidEvent, match="carries no cxa events"):
        validate("elsewhere", b"T1", events.serialize(TICKET))


def test_deadletter_headers_carry_reason_and_origin() -> None:
    headers = dict(deadletter_headers("bad priority", topics.TICKET_EVENTS, 3, 42, WHEN))
    assert headers == {
        "cxa.error.reason": b"bad priority",
        "cxa.origin.topic": b"tickets.events",
        "cxa.origin.partition": b"3",
        "cxa.origin.offset": b"42",
        "cxa.error.at": b"2026-03-01T09:30:00+00:00",
    }
