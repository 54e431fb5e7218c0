"""Seeded ticket-created events for smoke tests and throughput measurements."""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from cxa.events import Channel, Priority, TicketCreated

_SUBJECTS = (
    ("Card not arrived", "I ordered a new card two weeks ago and it still has not arrived."),
    ("Refund missing", "The refund for my returned order is not on my account yet."),
    ("Cannot log in", "The app says my password is wrong although I just reset it."),
    ("Double charge", "I was charged twice for the same purchase yesterday."),
    ("Change address", "How do I change the delivery address on my account?"),
)


def demo_tickets(count: int, seed: int = 0, start: datetime | None = None) -> Iterator[TicketCreated]:
    """``count`` valid ticket-created events, the same for the same seed."""
    rng = random.Random(seed)
    start = start or datetime.now(UTC)
    for number in range(count):
        subject, body = rng.choice(_SUBJECTS)
        yield TicketCreated(
            event_id=UUID(int=rng.getrandbits(128), version=4),
            ticket_id=f"T{seed}-{number:08d}",
            occurred_at=start + timedelta(milliseconds=number),
            customer_id=f"C{rng.randrange(10_000):05d}",
            channel=rng.choice(list(Channel)),
            priority=rng.choices(list(Priority), weights=(20, 60, 15, 5))[0],
            subject=subject,
            body=body,
        )
