"""Kafka topic names: the one place they are spelled out."""

from typing import Final

TICKET_EVENTS: Final = "tickets.events"
"""Ticket lifecycle events from the ticketing system, keyed by ``ticket_id``."""

AGENT_EVENTS: Final = "agents.events"
"""Workforce events (support agents' status, capacity, skills), keyed by ``agent_id``."""

TICKETS_CATEGORIZED: Final = "tickets.categorized"
"""Category predictions for created tickets, keyed by ``ticket_id``."""

TICKETS_ROUTED: Final = "tickets.routed"
"""Routing decisions, keyed by ``ticket_id``."""

DEADLETTER: Final = "cxa.deadletter"
"""Messages that failed validation: original key and bytes, reason and origin in headers."""

SOURCE_TOPICS: Final = (TICKET_EVENTS, AGENT_EVENTS)
ALL_TOPICS: Final = (*SOURCE_TOPICS, TICKETS_CATEGORIZED, TICKETS_ROUTED, DEADLETTER)


def floor_topic(app_id: str) -> str:
    """The worker app's internal one-partition topic: every validated event and prediction,
    funnelled so that one worker (the partition's owner) holds the whole floor and routes globally;
    another takes over when it fails. Faust creates it."""
    return f"{app_id}-floor"


def categorizer_tickets_topic(app_id: str) -> str:
    """The worker app's internal topic of validated ticket events the categorizer reads, packed per
    batch and per source partition (so a ticket's created and labelled events stay together)."""
    return f"{app_id}-categorizer-tickets"


def categorizer_labels_topic(app_id: str) -> str:
    """The worker app's internal topic of labelled examples (one partition: one learner)."""
    return f"{app_id}-categorizer-labels"
