import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_kind
from hypothesis import strategies as st

from cxa import events, topics
from cxa.deadletters import Refusal
from stream_processors.ingest.validation import Limits, ValidEvent, content_id, validate
from tests.strategies import any_text, near_valid

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TICKET = events.TicketCreated(
    ticket_id="T1", occurred_at=WHEN, customer_id="C1", channel="web", priority="low", subject="s", body="b"
)
AGENT = events.AgentStatusChanged(agent_id="A1", occurred_at=WHEN, status="online")


def test_valid_events_pass_on_their_own_topic() -> None:
    assert validate(topics.TICKET_EVENTS, b"T1", events.serialize(TICKET)) == TICKET
    assert validate(topics.AGENT_EVENTS, b"A1", events.serialize(AGENT)) == AGENT
    assert validate(topics.TICKET_EVENTS, None, events.serialize(TICKET)) == TICKET


def test_an_event_without_an_id_gets_the_same_id_on_every_delivery() -> None:
    payload = TICKET.model_dump(mode="json", exclude={"event_id"})
    value = json.dumps(payload).encode()
    first, again = (validate(topics.TICKET_EVENTS, b"T1", value) for _ in range(2))
    assert first.event_id == again.event_id == content_id(value)
    other = json.dumps({**payload, "body": "another"}).encode()
    assert validate(topics.TICKET_EVENTS, b"T1", other).event_id != first.event_id
    assert validate(topics.TICKET_EVENTS, b"T1", events.serialize(TICKET)).event_id == TICKET.event_id


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


def test_kinds_name_the_rule_broken() -> None:
    def kind(topic: str, key: bytes | None, value: bytes | None, **limits: object) -> Refusal:
        with pytest.raises(events.InvalidEvent) as refused:
            validate(topic, key, value, now=WHEN, limits=Limits(**limits))  # type: ignore[arg-type]
        return refused.value.kind

    ticket = events.serialize(TICKET)
    assert kind(topics.TICKET_EVENTS, b"T1", b"\xff") is Refusal.MALFORMED
    assert kind(topics.TICKET_EVENTS, b"T1", b"[" * 10_000 + b"]" * 10_000) is Refusal.MALFORMED
    assert kind(topics.TICKET_EVENTS, b"T1", ticket.replace(b'"low"', b'"asap"')) is Refusal.SCHEMA
    assert kind(topics.TICKET_EVENTS, b"T1", None) is Refusal.NO_VALUE
    assert kind(topics.AGENT_EVENTS, b"T1", ticket) is Refusal.WRONG_TOPIC
    assert kind("elsewhere", b"T1", ticket) is Refusal.WRONG_TOPIC
    assert kind(topics.TICKET_EVENTS, b"T2", ticket) is Refusal.KEY_MISMATCH
    assert kind(topics.TICKET_EVENTS, b"T1", ticket, max_message_bytes=100) is Refusal.TOO_LARGE


@pytest.mark.parametrize(
    ("occurred_at", "words"),
    [
        ("9999-12-31T23:59:59-01:00", "out of range"),
        ("0001-01-01T00:00:00+01:00", "out of range"),
        ("9999-01-01T00:00:00Z", "ahead of the clock"),
        ("0001-01-01T00:00:00Z", "before 2000-01-01"),
        ("2026-03-01T09:36:00Z", "ahead of the clock"),
    ],
)
def test_times_out_of_range_or_beyond_the_clock_skew_are_refused(occurred_at: str, words: str) -> None:
    value = events.serialize(TICKET).replace(b"2026-03-01T09:30:00Z", occurred_at.encode())
    with pytest.raises(events.InvalidEvent, match=words):
        validate(topics.TICKET_EVENTS, b"T1", value, now=WHEN)
    ahead = events.serialize(TICKET).replace(b"2026-03-01T09:30:00Z", b"2026-03-01T09:34:59Z")
    assert validate(topics.TICKET_EVENTS, b"T1", ahead, now=WHEN).occurred_at > WHEN


@pytest.mark.parametrize("text", ["a\\u0000b", "a\\udc00b", "\\ud800", "x\\ud83d"])
def test_characters_postgresql_cannot_store_are_refused(text: str) -> None:
    value = events.serialize(TICKET).replace(b'"subject":"s"', f'"subject":"{text}"'.encode())
    with pytest.raises(events.InvalidEvent):
        validate(topics.TICKET_EVENTS, b"T1", value, now=WHEN)
    emoji = events.serialize(TICKET).replace(b'"subject":"s"', b'"subject":"\\ud83d\\udcb3"')
    assert validate(topics.TICKET_EVENTS, b"T1", emoji, now=WHEN).subject == "\U0001f4b3"


def _refuse_non_finite(constant: str) -> None:
    raise AssertionError(f"a non-finite number in the document: {constant}")


def _storable(event: ValidEvent) -> None:
    """What every sink needs: strict UTF-8 JSON without U+0000, finite numbers, an aware time in range."""
    document = event.model_dump_json()
    document.encode("utf-8")  # no lone surrogates
    assert "\\u0000" not in document
    assert "\x00" not in document
    json.loads(document, parse_constant=_refuse_non_finite)  # a text "NaN" is fine, a number is not
    assert event.occurred_at.tzinfo is not None
    assert events.EARLIEST_OCCURRED_AT <= event.occurred_at <= WHEN + events.MAX_AHEAD
    assert len(event.key) <= 64


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.one_of(st.none(), st.binary(max_size=300), near_valid(TICKET), any_text(TICKET)),
    key=st.one_of(st.none(), st.binary(max_size=20), st.just(b"T1"), st.just(b"T1")),
    topic=st.sampled_from([topics.TICKET_EVENTS] * 4 + [topics.AGENT_EVENTS, "elsewhere"]),
)
def test_any_bytes_give_a_storable_event_or_invalid_event(
    value: bytes | None, key: bytes | None, topic: str
) -> None:
    refusal: events.InvalidEvent | None = None
    try:
        event = validate(topic, key, value, now=WHEN)
    except events.InvalidEvent as refused:  # anything else fails the test
        refusal = refused
    event_kind("valid" if refusal is None else refusal.kind.value)
    if refusal is None:
        _storable(event)
    else:
        assert refusal.reason
        assert isinstance(refusal.kind, Refusal)
