"""Contract checks for incoming messages: pure functions, no Faust, no Kafka client."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter

from cxa import events, topics
from cxa.deadletters import Refusal

_ADAPTERS: dict[str, TypeAdapter[events.TicketEvent] | TypeAdapter[events.AgentEvent]] = {
    topics.TICKET_EVENTS: events.TICKET_EVENT_ADAPTER,
    topics.AGENT_EVENTS: events.AGENT_EVENT_ADAPTER,
}

ValidEvent = events.TicketEvent | events.AgentEvent

_CONTENT_NAMESPACE = uuid.UUID("0c9a3f4e-7d21-5b8e-9f61-3a2d4c5b6e7f")


def content_id(value: bytes) -> uuid.UUID:
    """The ``event_id`` of a message that carries none: the same bytes always give the same id, so a
    redelivery or a publisher's retry of it lands once."""
    return uuid.uuid5(_CONTENT_NAMESPACE, hashlib.sha256(value).hexdigest())


@dataclass(frozen=True)
class Limits:
    """What the worker accepts beyond the schema (``CXA_WORKER_MAX_MESSAGE_BYTES`` and
    ``CXA_WORKER_MAX_CLOCK_SKEW_SECONDS``)."""

    max_message_bytes: int = 256 * 1024
    max_ahead: timedelta = events.MAX_AHEAD


DEFAULT_LIMITS = Limits()


def validate(
    topic: str,
    key: bytes | None,
    value: bytes | None,
    *,
    now: datetime | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ValidEvent:
    """The event in a message, or :class:`cxa.events.InvalidEvent` with the reason it breaks the contract.

    An event without ``event_id`` gets :func:`content_id`. Beyond the schema: the event must
    belong on its topic, the message key must be the entity id
    (so that all events of one ticket, or support agent, stay in one partition), the message must
    fit ``limits``, and its time must be within the clock skew allowed around ``now`` (the wall
    clock when not given).
    """
    adapter = _ADAPTERS.get(topic)
    if adapter is None:
        raise events.InvalidEvent(f"topic {topic!r} carries no cxa events", Refusal.WRONG_TOPIC)
    if value is None:
        raise events.InvalidEvent("message has no value (a tombstone)", Refusal.NO_VALUE)
    if len(value) > limits.max_message_bytes:
        raise events.InvalidEvent(
            f"message of {len(value):,} bytes is over the limit of {limits.max_message_bytes:,} "
            "(CXA_WORKER_MAX_MESSAGE_BYTES)",
            Refusal.TOO_LARGE,
        )
    try:
        event: ValidEvent = events.parse(value, adapter)
    except events.InvalidEvent as exc:
        if exc.kind is Refusal.SCHEMA and _other_topic_accepts(topic, value):
            raise events.InvalidEvent(exc.reason, Refusal.WRONG_TOPIC) from exc
        raise
    if key is not None and key.decode("utf-8", errors="replace") != event.key:
        raise events.InvalidEvent(
            f"message key {key.decode('utf-8', errors='replace')!r} is not the event's "
            f"entity id {event.key!r}",
            Refusal.KEY_MISMATCH,
        )
    events.check_occurred_at(event.occurred_at, now or datetime.now(UTC), limits.max_ahead)
    if "event_id" not in event.model_fields_set:
        event = event.model_copy(update={"event_id": content_id(value)})
    return event


def _other_topic_accepts(topic: str, value: bytes) -> bool:
    """Whether the message is a valid event of another source topic (so it was sent to the wrong one)."""
    for other, adapter in _ADAPTERS.items():
        if other != topic:
            try:
                adapter.validate_json(value)
            except ValueError:
                continue
            return True
    return False
