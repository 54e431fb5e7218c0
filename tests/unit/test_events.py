import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from cxa import events
from cxa.deadletters import Refusal

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "events.schema.json"
WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _created(**changes: object) -> events.TicketCreated:
    fields: dict[str, object] = {
        "ticket_id": "T1",
        "occurred_at": WHEN,
        "customer_id": "C1",
        "channel": "chat",
        "priority": "urgent",
        "subject": "Card blocked",
        "body": "Please help",
        "language": "en",
    }
    return events.TicketCreated.model_validate({**fields, **changes})


def test_round_trip_through_the_wire_form() -> None:
    event = _created()
    assert events.parse(events.serialize(event)) == event


def test_every_event_type_parses_to_its_model() -> None:
    samples = [
        _created(),
        events.TicketCategoryConfirmed(
            ticket_id="T1", occurred_at=WHEN, agent_id="A1", category="card_arrival"
        ),
        events.TicketCategoryCorrected(
            ticket_id="T1",
            occurred_at=WHEN,
            agent_id="A1",
            category="refund",
            previous_category="card_arrival",
        ),
        events.TicketAssigned(ticket_id="T1", occurred_at=WHEN, agent_id="A1", policy="router"),
        events.AgentReplied(ticket_id="T1", occurred_at=WHEN, agent_id="A1"),
        events.CustomerReplied(ticket_id="T1", occurred_at=WHEN, customer_id="C1"),
        events.TicketStatusChanged(ticket_id="T1", occurred_at=WHEN, status="on_hold"),
        events.TicketReopened(ticket_id="T1", occurred_at=WHEN),
        events.CsatSubmitted(ticket_id="T1", occurred_at=WHEN, rating=4),
        events.AgentStatusChanged(agent_id="A1", occurred_at=WHEN, status="away"),
        events.AgentCapacityChanged(agent_id="A1", occurred_at=WHEN, capacity=3),
        events.AgentSkillsChanged(
            agent_id="A1", occurred_at=WHEN, skills={"refund": 0.8}, languages=["en", "es"]
        ),
    ]
    assert len({sample.event_type for sample in samples}) == len(samples)
    for sample in samples:
        parsed = events.parse(events.serialize(sample))
        assert type(parsed) is type(sample)
        assert parsed == sample


def test_timestamps_are_normalised_to_utc() -> None:
    event = _created(occurred_at=datetime(2026, 3, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))))
    assert event.occurred_at == WHEN
    assert event.occurred_at.utcoffset() == timedelta(0)


def test_naive_timestamps_are_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        _created(occurred_at=datetime(2026, 3, 1, 9, 30))  # noqa: DTZ001 - the point of the test


def test_events_are_frozen_and_closed() -> None:
    event = _created()
    with pytest.raises(ValidationError):
        event.priority = events.Priority.LOW  # type: ignore[misc]
    with pytest.raises(ValidationError, match="Extra inputs"):
        _created(mood="angry")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe", "Invalid JSON"),
        (b"[1, 2]", "Input should be an object"),
        (b'{"ticket_id": "T1"}', "event_type"),
        (b'{"event_type": "ticket.exploded"}', "ticket.exploded"),
    ],
)
def test_parse_says_what_is_wrong(raw: bytes, reason: str) -> None:
    with pytest.raises(events.InvalidEvent, match=reason):
        events.parse(raw)


def test_parse_names_every_wrong_field() -> None:
    document = json.loads(events.serialize(_created()))
    document["priority"] = "asap"
    document["rating"] = 3
    del document["body"]
    with pytest.raises(events.InvalidEvent) as caught:
        events.parse(json.dumps(document).encode())
    reason = caught.value.reason
    assert "ticket.created.priority: Input should be 'low', 'normal', 'high' or 'urgent'" in reason
    assert "ticket.created.body: Field required" in reason
    assert "ticket.created.rating: Extra inputs are not permitted" in reason


def test_csat_rating_is_one_to_five() -> None:
    with pytest.raises(ValidationError, match="rating"):
        events.CsatSubmitted(ticket_id="T1", occurred_at=WHEN, rating=6)


def test_exported_json_schema_matches_the_committed_snapshot() -> None:
    """Fails on any schema change: if intended, run `cxa events schema -o docs/events.schema.json`."""
    committed = json.loads(SNAPSHOT.read_text())
    assert events.json_schema() == committed


# Any Unicode character PostgreSQL can store: neither U+0000 nor a lone surrogate (category Cs).
STORABLE = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))


@given(text=st.text(min_size=1).map(lambda text: text + "\x00"))
def test_text_with_u0000_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="U\\+0000"):
        _created(subject=text)


@pytest.mark.parametrize("text", ["\ud800", "caf\u00e9 \udfff", "\U0001f4b3\udc00"])
def test_text_with_a_lone_surrogate_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="valid string"):
        _created(body=text)
    wire = events.serialize(_created()).replace(b'"Please help"', json.dumps(text).encode())
    with pytest.raises(events.InvalidEvent):
        events.parse(wire)
    assert _created(body="caf\u00e9 \U0001f4b3").body == "caf\u00e9 \U0001f4b3"


def test_the_clock_limits_are_inclusive() -> None:
    ahead = timedelta(minutes=5)
    events.check_occurred_at(WHEN + ahead, WHEN, ahead)
    events.check_occurred_at(events.EARLIEST_OCCURRED_AT, WHEN, ahead)
    for refused in (
        WHEN + ahead + timedelta(microseconds=1),
        events.EARLIEST_OCCURRED_AT - timedelta(microseconds=1),
    ):
        with pytest.raises(events.InvalidEvent) as raised:
            events.check_occurred_at(refused, WHEN, ahead)
        assert raised.value.kind is Refusal.CLOCK_SKEW


@given(
    ticket_id=st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True),
    subject=st.text(STORABLE, max_size=200),
    body=st.text(STORABLE, max_size=2000),
    priority=st.sampled_from(list(events.Priority)),
    channel=st.sampled_from(list(events.Channel)),
)
def test_any_valid_ticket_survives_the_wire(
    ticket_id: str, subject: str, body: str, priority: events.Priority, channel: events.Channel
) -> None:
    event = _created(ticket_id=ticket_id, subject=subject, body=body, priority=priority, channel=channel)
    assert events.parse(events.serialize(event)) == event
