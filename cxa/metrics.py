"""Metric definitions shared by the stream and the batch side: one definition, two implementations.

The dbt models under ``dbt/models`` compute the same numbers in SQL; an integration test runs both
on the same events and compares them ticket by ticket. Change a definition here and there together.

Definitions
-----------
* **Status timeline.** A ticket is ``open`` from ``ticket.created``; ``ticket.status_changed`` sets
  its status; ``ticket.reopened`` sets it back to ``open``. Events are ordered by ``occurred_at``,
  then ``event_id``.
* **First reply time**: creation to the first *public* agent reply.
* **Resolution time**: creation to the first solve (*first resolution*), and to the last solve when
  the ticket is solved or closed now (*full resolution*). A solve is a change into ``solved`` or
  ``closed`` from any other status (``solved`` -> ``closed`` is not a second solve).
* **SLA clock.** It runs while the ticket is ``open`` and pauses while it is ``pending`` or
  ``on_hold`` (and stops while solved or closed). The last, open-ended stretch is followed for
  ``CLOCK_HORIZON`` at most. The *calendar* clock counts every minute; the *business* clock counts
  only minutes inside business hours (Monday to Friday, 09:00-17:00 UTC).
* **SLA due time**: the moment the clock reaches the priority's target (:data:`SLA_POLICIES`);
  none if it never does within the horizon.
* **Breach**: the due time passed without the event: the event came after it, or has not come and
  ``as_of`` is past it.
* **Backlog** at a moment: tickets created by then whose status is not ``solved``/``closed``.
* **CSAT**: ratings 4-5 over all ratings (1-5 scale; a ticket's latest rating counts).
* **Reopen rate**: tickets reopened at least once over tickets solved at least once.
* **Transfer rate**: tickets assigned more than once over tickets assigned at least once.
* **Service level** (``first_reply_within_target``): share of tickets whose first reply came within
  the calendar first-reply target.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from itertools import chain, pairwise
from typing import Any

from cxa.events import (
    AgentReplied,
    CsatSubmitted,
    CustomerReplied,
    Priority,
    TicketAssigned,
    TicketCategoryConfirmed,
    TicketCategoryCorrected,
    TicketCreated,
    TicketPriorityChanged,
    TicketReopened,
    TicketStatus,
    TicketStatusChanged,
)

RUNNING_STATUSES = frozenset({TicketStatus.OPEN})
RESOLVED_STATUSES = frozenset({TicketStatus.SOLVED, TicketStatus.CLOSED})
CLOCK_HORIZON = timedelta(days=60)
BUSINESS_DAYS = frozenset({1, 2, 3, 4, 5})  # ISO weekdays
BUSINESS_START = time(9, 0)
BUSINESS_END = time(17, 0)
SATISFIED_RATINGS = frozenset({4, 5})


@dataclass(frozen=True)
class SlaPolicy:
    """Targets of one priority, in clock minutes (calendar or business, the same number)."""

    priority: Priority
    first_reply_minutes: int
    resolution_minutes: int


SLA_POLICIES: dict[Priority, SlaPolicy] = {
    Priority.URGENT: SlaPolicy(Priority.URGENT, first_reply_minutes=30, resolution_minutes=4 * 60),
    Priority.HIGH: SlaPolicy(Priority.HIGH, first_reply_minutes=60, resolution_minutes=8 * 60),
    Priority.NORMAL: SlaPolicy(Priority.NORMAL, first_reply_minutes=4 * 60, resolution_minutes=24 * 60),
    Priority.LOW: SlaPolicy(Priority.LOW, first_reply_minutes=8 * 60, resolution_minutes=48 * 60),
}

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class StatusSpan:
    status: TicketStatus
    previous_status: TicketStatus | None
    valid_from: datetime
    valid_to: datetime | None


@dataclass(frozen=True)
class TicketMetrics:
    """Every per-ticket number the marts carry (``ticket_analytics``), computed from events."""

    ticket_id: str
    created_at: datetime
    priority: Priority
    status: TicketStatus
    first_reply_at: datetime | None
    first_resolved_at: datetime | None
    full_resolved_at: datetime | None
    first_reply_due_at: datetime | None
    first_reply_due_business_at: datetime | None
    resolution_due_at: datetime | None
    resolution_due_business_at: datetime | None
    is_first_reply_breached: bool
    is_first_reply_business_breached: bool
    is_resolution_breached: bool
    is_resolution_business_breached: bool
    reopen_count: int
    transfer_count: int
    csat_rating: int | None
    category: str | None

    @property
    def first_reply_minutes(self) -> float | None:
        return minutes_between(self.created_at, self.first_reply_at)

    @property
    def first_resolution_minutes(self) -> float | None:
        return minutes_between(self.created_at, self.first_resolved_at)

    @property
    def full_resolution_minutes(self) -> float | None:
        return minutes_between(self.created_at, self.full_resolved_at)


def minutes_between(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 60


def ordered(events: Iterable[Any]) -> list[Any]:
    """Events in the order every metric reads them: time, then event id."""
    return sorted(events, key=lambda event: (event.occurred_at, event.event_id))


def status_timeline(events: Sequence[Any]) -> list[StatusSpan]:
    """The ticket's statuses as consecutive spans (the last one open-ended)."""
    changes: list[tuple[datetime, TicketStatus]] = []
    for event in ordered(events):
        if isinstance(event, TicketCreated | TicketReopened):
            changes.append((event.occurred_at, TicketStatus.OPEN))
        elif isinstance(event, TicketStatusChanged):
            changes.append((event.occurred_at, event.status))
    spans = []
    for index, (at, status) in enumerate(changes):
        following = changes[index + 1][0] if index + 1 < len(changes) else None
        previous = changes[index - 1][1] if index > 0 else None
        spans.append(StatusSpan(status, previous, at, following))
    return spans


def running_intervals(spans: Sequence[StatusSpan]) -> list[Interval]:
    """When the SLA clock runs: the open spans, the open-ended one cut at the horizon."""
    return [
        cut_at_horizon(span.valid_from, span.valid_to) for span in spans if span.status in RUNNING_STATUSES
    ]


def cut_at_horizon(start: datetime, end: datetime | None) -> Interval:
    """A stretch of running clock; an open-ended one is followed for ``CLOCK_HORIZON`` at most."""
    return (start, end or start + CLOCK_HORIZON)


def business_windows(interval: Interval) -> Iterator[Interval]:
    """The parts of ``interval`` inside business hours (UTC), in time order."""
    start, end = interval
    day = datetime.combine(start.astimezone(UTC).date(), time(0), tzinfo=UTC)
    while day <= end:
        if day.isoweekday() in BUSINESS_DAYS:
            opens = datetime.combine(day.date(), BUSINESS_START, tzinfo=UTC)
            closes = datetime.combine(day.date(), BUSINESS_END, tzinfo=UTC)
            window = (max(start, opens), min(end, closes))
            if window[1] > window[0]:
                yield window
        day += timedelta(days=1)


def due_at(
    target_minutes: float, intervals: Sequence[Interval], business_hours: bool = False
) -> datetime | None:
    """When a clock running over ``intervals`` reaches ``target_minutes``; None if it never does.

    >>> start = datetime(2026, 1, 5, 16, 0, tzinfo=UTC)  # a Monday, 16:00
    >>> due_at(120, [(start, start + timedelta(days=2))]).isoformat()
    '2026-01-05T18:00:00+00:00'
    >>> due_at(120, [(start, start + timedelta(days=2))], business_hours=True).isoformat()
    '2026-01-06T10:00:00+00:00'
    """
    ordered_intervals = sorted(intervals)
    # Lazily: the windows of the 60-day horizon are many, and the target is usually met in the first.
    windows = (
        chain.from_iterable(map(business_windows, ordered_intervals)) if business_hours else ordered_intervals
    )
    elapsed = 0.0
    for start, end in windows:
        minutes = (end - start).total_seconds() / 60
        if elapsed + minutes >= target_minutes:
            return start + timedelta(minutes=target_minutes - elapsed)
        elapsed += minutes
    return None


def is_breached(due: datetime | None, happened_at: datetime | None, as_of: datetime) -> bool:
    """A target passed without the event: it came late, or has not come and the due time is past."""
    if due is None:
        return False
    if happened_at is not None:
        return happened_at > due
    return as_of > due


def current_priority(events: Sequence[Any]) -> Priority:
    """The ticket's priority: the latest of its creation's and its priority changes (in
    :func:`ordered` order). The SLA targets are that priority's, measured from creation."""
    settings = [e.priority for e in ordered(events) if isinstance(e, TicketCreated | TicketPriorityChanged)]
    return settings[-1]


def ticket_metrics(events: Sequence[Any], as_of: datetime) -> TicketMetrics:
    """Every per-ticket metric from one ticket's events (which must include its ``ticket.created``)."""
    events = ordered(events)
    created = next(event for event in events if isinstance(event, TicketCreated))
    spans = status_timeline(events)
    solves = [
        span.valid_from
        for span in spans
        if span.status in RESOLVED_STATUSES and span.previous_status not in RESOLVED_STATUSES
    ]
    status = spans[-1].status
    replies = [e.occurred_at for e in events if isinstance(e, AgentReplied) and e.is_public]
    first_reply_at = replies[0] if replies else None
    first_resolved_at = solves[0] if solves else None
    priority = current_priority(events)
    policy = SLA_POLICIES[priority]
    running = running_intervals(spans)
    reply_due = due_at(policy.first_reply_minutes, running)
    reply_due_business = due_at(policy.first_reply_minutes, running, business_hours=True)
    resolution_due = due_at(policy.resolution_minutes, running)
    resolution_due_business = due_at(policy.resolution_minutes, running, business_hours=True)
    assignees = [e.agent_id for e in events if isinstance(e, TicketAssigned)]
    ratings = [e.rating for e in events if isinstance(e, CsatSubmitted)]
    categories = [
        e.category for e in events if isinstance(e, TicketCategoryConfirmed | TicketCategoryCorrected)
    ]
    return TicketMetrics(
        ticket_id=created.ticket_id,
        created_at=created.occurred_at,
        priority=priority,
        status=status,
        first_reply_at=first_reply_at,
        first_resolved_at=first_resolved_at,
        full_resolved_at=solves[-1] if solves and status in RESOLVED_STATUSES else None,
        first_reply_due_at=reply_due,
        first_reply_due_business_at=reply_due_business,
        resolution_due_at=resolution_due,
        resolution_due_business_at=resolution_due_business,
        is_first_reply_breached=is_breached(reply_due, first_reply_at, as_of),
        is_first_reply_business_breached=is_breached(reply_due_business, first_reply_at, as_of),
        is_resolution_breached=is_breached(resolution_due, first_resolved_at, as_of),
        is_resolution_business_breached=is_breached(resolution_due_business, first_resolved_at, as_of),
        reopen_count=sum(isinstance(e, TicketReopened) for e in events),
        transfer_count=transfers(assignees),
        csat_rating=ratings[-1] if ratings else None,
        category=categories[-1] if categories else None,
    )


def transfers(assignees: Sequence[str]) -> int:
    """Assignments that move a ticket to another agent: a helpdesk re-sending the assignment it
    already reported (an auto-assignment, a retried sync) moves nothing.

    >>> transfers(["A1", "A1", "A2", "A1"])
    2
    """
    return sum(previous != agent for previous, agent in pairwise(assignees))


def customer_effort(events: Sequence[Any]) -> int:
    """Customer replies plus reopens on one ticket: what the customer had to do beyond asking."""
    return sum(isinstance(e, CustomerReplied | TicketReopened) for e in events)


def csat_score(ratings: Iterable[int]) -> float | None:
    """Share of ratings that are 4 or 5; None without ratings."""
    values = list(ratings)
    if not values:
        return None
    return sum(rating in SATISFIED_RATINGS for rating in values) / len(values)


def reopen_rate(tickets: Iterable[TicketMetrics]) -> float | None:
    """Tickets reopened at least once over tickets solved at least once."""
    solved = [t for t in tickets if t.first_resolved_at is not None]
    if not solved:
        return None
    return sum(t.reopen_count > 0 for t in solved) / len(solved)


def service_level(tickets: Iterable[TicketMetrics]) -> float | None:
    """Share of replied-or-due tickets whose first reply came within the calendar target."""
    counted = [t for t in tickets if t.first_reply_due_at is not None]
    if not counted:
        return None
    return sum(not t.is_first_reply_breached for t in counted) / len(counted)


def backlog(timelines: Iterable[Sequence[StatusSpan]], at: datetime) -> int:
    """Tickets created by ``at`` whose status at ``at`` is not solved or closed."""
    count = 0
    for spans in timelines:
        current = [span for span in spans if span.valid_from <= at]
        if current and current[-1].status not in RESOLVED_STATUSES:
            count += 1
    return count
