"""Features and predictions of tickets waiting for their confirmed category: bounded and expiring."""

from collections import OrderedDict
from dataclasses import dataclass

from stream_processors.categorizer.features import Counts


@dataclass(frozen=True, slots=True)
class Waiting:
    """What was known when the ticket was categorized."""

    features: Counts
    predicted: str | None
    abstained: bool
    stored_at: float


class PendingTickets:
    """Ticket id -> :class:`Waiting`, oldest evicted first beyond ``capacity`` or after ``ttl`` seconds.

    >>> import numpy as np
    >>> pending = PendingTickets(capacity=2, ttl=60)
    >>> empty = Counts(np.zeros(0, np.int32), np.zeros(0, np.float32))
    >>> for ticket, now in [("T1", 0.0), ("T2", 1.0), ("T3", 2.0)]:
    ...     pending.put(ticket, Waiting(empty, "card", False, now), now=now)
    >>> pending.pop("T1", now=3.0) is None, pending.get("T2", now=3.0).predicted
    (True, 'card')
    >>> pending.pop("T2", now=3.0).predicted, pending.get("T2", now=3.0)
    ('card', None)
    >>> pending.pop("T3", now=100.0) is None  # expired
    True
    """

    def __init__(self, capacity: int = 100_000, ttl: float = 7 * 24 * 3600.0) -> None:
        self.capacity = capacity
        self.ttl = ttl
        self._items: OrderedDict[str, Waiting] = OrderedDict()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._items)

    def put(self, ticket_id: str, waiting: Waiting, *, now: float) -> None:
        self._items.pop(ticket_id, None)
        self._items[ticket_id] = waiting
        self.expire(now)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
            self.evicted += 1

    def get(self, ticket_id: str, *, now: float) -> Waiting | None:
        self.expire(now)
        return self._items.get(ticket_id)

    def pop(self, ticket_id: str, *, now: float) -> Waiting | None:
        self.expire(now)
        return self._items.pop(ticket_id, None)

    def expire(self, now: float) -> None:
        while self._items:
            oldest = next(iter(self._items.values()))
            if now - oldest.stored_at <= self.ttl:
                break
            self._items.popitem(last=False)
            self.evicted += 1
