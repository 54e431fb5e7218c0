"""Contract checks for incoming messages: pure functions, no Faust, no Kafka client."""

from datetime import datetime

from pydantic import TypeAdapter

from cxa import events, topics

_ADAPTERS: dict[str, TypeAdapter[events.TicketEvent] | TypeAdapter[events.AgentEvent]] = {
    topics.TICKET_EVENTS: events.TICKET_EVENT_ADAPTER,
    topics.AGENT_EVENTS: events.AGENT_EVENT_ADAPTER,
}

ValidEvent = events.TicketEvent | events.AgentEvent


def validate(topic: str, key: bytes | None, value: bytes | None) -> ValidEvent:
    """The event in a message, or :class:`cxa.events.InvalidEvent` with the reason it breaks the contract.

    Beyond the schema: the event must belong on its topic, and the message key must be the
    entity id so that all events of one ticket (or support agent) stay in one partition.
    """
    adapter = _ADAPTERS.get(topic)
    if adapter is None:
        raise events.InvalidEvent(f"topic {topic!r} carries no cxa events")
    if value is None:
        raise events.InvalidEvent("message has no value")
    event: ValidEvent = events.parse(value, adapter)
    if key is not None and key.decode("utf-8", errors="replace") != event.key:
        raise events.InvalidEvent(
            f"message key {key.decode('utf-8', errors='replace')!r} is not the event's "
            f"entity id {event.key!r}"
        )
    return event


def deadletter_headers(
    reason: str, topic: str, partition: int, offset: int, failed_at: datetime
) -> list[tuple[str, bytes]]:
    """Headers a dead letter carries beside the original key and bytes."""
    return [
        ("cxa.error.reason", reason.encode("utf-8")),
        ("cxa.origin.topic", topic.encode("utf-8")),
        ("cxa.origin.partition", str(partition).encode()),
        ("cxa.origin.offset", str(offset).encode()),
        ("cxa.error.at", failed_at.isoformat().encode()),
    ]
