"""Routing quality from a closed-loop run's events: waits, SLA, skill match, occupancy, CSAT.

Pure: a list of contract events in, numbers out. Only tickets created inside the measured window
count; the run may go on past the window so that they can be assigned, answered and rated.

* **Wait to assignment**: ticket creation to its first ``ticket.assigned`` (minutes); tickets never
  assigned are counted apart (``unassigned``), not in the mean or p90.
* **SLA attainment**: share of tickets whose first public agent reply came within the calendar
  first-reply target of their priority (:data:`cxa.metrics.SLA_POLICIES`); a ticket not answered by
  ``as_of`` counts as a breach once its target has passed and is left out before that.
* **Skill match**: share of assignments (transfers included) whose agent's proficiency in the
  ticket's *true* category (the category confirmed or corrected after the first reply) is at least
  ``skill_threshold``; assignments of tickets whose category was never revealed are left out.
* **Occupancy** of an agent: the share of their capacity in use while online, i.e. the time integral
  of ``min(tickets in hand, capacity) / capacity`` over their online time inside the window. A ticket is
  in an agent's hand from its assignment, or from its return to ``open`` (customer reply, end of
  hold, reopening) while assigned to them, until the agent's next reply or a transfer. Agents online
  less than ``min_online_hours`` in the window are left out; the spread is the population standard
  deviation and the p90-p10 range over the rest.
* **CSAT**: ratings 4-5 over all ratings of the window's tickets (a ticket's latest rating counts).
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cxa import events
from cxa.metrics import SLA_POLICIES, csat_score


@dataclass(frozen=True)
class RoutingQuality:
    tickets: int
    assigned: int
    unassigned: int
    mean_wait_minutes: float | None
    p90_wait_minutes: float | None
    sla_counted: int
    sla_attainment: float | None
    assignments_with_category: int
    skill_match_rate: float | None
    agents_measured: int
    mean_occupancy: float | None
    occupancy_std: float | None
    occupancy_p90_p10: float | None
    csat_ratings: int
    csat_positive_share: float | None
    assignments_by_policy: dict[str, int] = field(default_factory=dict)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0-1) with linear interpolation between closest ranks.

    >>> percentile([1.0, 2.0, 3.0, 4.0, 5.0], 0.9)
    4.6
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class _Agent:
    """One agent's running state for the occupancy integral."""

    capacity: int = 1
    online: bool = False
    held: int = 0
    since: datetime | None = None
    online_seconds: float = 0.0
    busy_seconds: float = 0.0


class _Occupancy:
    """Integrates each agent's online time and capacity in use, clipped to the window."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start = start
        self.end = end
        self.agents: dict[str, _Agent] = {}

    def agent(self, agent_id: str, at: datetime) -> _Agent:
        """The agent's state with its integrals brought up to ``at``."""
        agent = self.agents.setdefault(agent_id, _Agent())
        if agent.since is not None and agent.online:
            begin, finish = max(agent.since, self.start), min(at, self.end)
            if finish > begin:
                seconds = (finish - begin).total_seconds()
                agent.online_seconds += seconds
                agent.busy_seconds += seconds * min(agent.held, agent.capacity) / max(agent.capacity, 1)
        agent.since = at
        return agent

    def shares(self, at: datetime, min_online_hours: float) -> list[float]:
        shares = []
        for agent_id in sorted(self.agents):
            agent = self.agent(agent_id, at)
            if agent.online_seconds >= min_online_hours * 3600:
                shares.append(agent.busy_seconds / agent.online_seconds)
        return shares


def assess(
    stream: Iterable[events.EventBase],
    start: datetime,
    end: datetime,
    as_of: datetime,
    *,
    skill_threshold: float = 0.6,
    min_online_hours: float = 1.0,
) -> RoutingQuality:
    """Routing quality of the tickets created in ``[start, end)``, as known at ``as_of``."""
    known = (event for event in stream if event.occurred_at <= as_of)
    ordered = sorted(known, key=lambda event: event.occurred_at)  # stable: emission order on ties
    created: dict[str, events.TicketCreated] = {}
    first_assigned: dict[str, datetime] = {}
    first_reply: dict[str, datetime] = {}
    true_category: dict[str, str] = {}
    ratings: dict[str, int] = {}
    skills: dict[str, dict[str, float]] = {}
    assigned_skills: list[tuple[str, dict[str, float]]] = []  # (ticket, its agent's skills) per assignment
    by_policy: Counter[str] = Counter()
    occupancy = _Occupancy(start, end)
    owner: dict[str, str] = {}  # ticket -> its current agent
    in_hand: dict[str, str] = {}  # ticket -> the agent holding it now

    def release(ticket_id: str, at: datetime) -> None:
        holder = in_hand.pop(ticket_id, None)
        if holder is not None:
            occupancy.agent(holder, at).held -= 1

    def take(ticket_id: str, agent_id: str, at: datetime) -> None:
        if ticket_id not in in_hand:
            occupancy.agent(agent_id, at).held += 1
            in_hand[ticket_id] = agent_id

    for event in ordered:
        at = event.occurred_at
        if isinstance(event, events.AgentSkillsChanged):
            skills[event.agent_id] = dict(event.skills)
        elif isinstance(event, events.AgentCapacityChanged):
            occupancy.agent(event.agent_id, at).capacity = event.capacity
        elif isinstance(event, events.AgentStatusChanged):
            occupancy.agent(event.agent_id, at).online = event.status is events.AgentStatus.ONLINE
        elif isinstance(event, events.TicketCreated):
            if start <= at < end:
                created[event.ticket_id] = event
        elif isinstance(event, events.TicketAssigned):
            release(event.ticket_id, at)
            owner[event.ticket_id] = event.agent_id
            take(event.ticket_id, event.agent_id, at)
            if event.ticket_id in created:
                first_assigned.setdefault(event.ticket_id, at)
                by_policy[event.policy or "unknown"] += 1
                assigned_skills.append((event.ticket_id, skills.get(event.agent_id, {})))
        elif isinstance(event, events.AgentReplied):
            release(event.ticket_id, at)
            if event.is_public:
                first_reply.setdefault(event.ticket_id, at)
        elif isinstance(event, events.TicketReopened) or (
            isinstance(event, events.TicketStatusChanged) and event.status is events.TicketStatus.OPEN
        ):
            agent_id = owner.get(event.ticket_id)
            if agent_id is not None:
                take(event.ticket_id, agent_id, at)
        elif isinstance(event, events.TicketCategoryConfirmed | events.TicketCategoryCorrected):
            true_category[event.ticket_id] = event.category
        elif isinstance(event, events.CsatSubmitted):
            ratings[event.ticket_id] = event.rating

    waits = [
        (first_assigned[t] - c.occurred_at).total_seconds() / 60
        for t, c in created.items()
        if t in first_assigned
    ]
    sla = _sla_outcomes(created, first_reply, as_of)
    matches = [
        agent_skills.get(true_category[ticket_id], 0.0) >= skill_threshold
        for ticket_id, agent_skills in assigned_skills
        if ticket_id in true_category
    ]
    shares = occupancy.shares(max(as_of, end), min_online_hours)
    window_ratings = [rating for ticket_id, rating in ratings.items() if ticket_id in created]
    return RoutingQuality(
        tickets=len(created),
        assigned=len(waits),
        unassigned=len(created) - len(waits),
        mean_wait_minutes=sum(waits) / len(waits) if waits else None,
        p90_wait_minutes=percentile(waits, 0.9) if waits else None,
        sla_counted=len(sla),
        sla_attainment=sum(sla) / len(sla) if sla else None,
        assignments_with_category=len(matches),
        skill_match_rate=sum(matches) / len(matches) if matches else None,
        agents_measured=len(shares),
        mean_occupancy=sum(shares) / len(shares) if shares else None,
        occupancy_std=_std(shares),
        occupancy_p90_p10=percentile(shares, 0.9) - percentile(shares, 0.1) if shares else None,
        csat_ratings=len(window_ratings),
        csat_positive_share=csat_score(window_ratings),
        assignments_by_policy=dict(sorted(by_policy.items())),
    )


def _sla_outcomes(
    created: dict[str, events.TicketCreated], first_reply: dict[str, datetime], as_of: datetime
) -> list[bool]:
    """Per counted ticket, whether its first reply met the target (unanswered and not yet due: left out)."""
    outcomes = []
    for ticket_id, ticket in created.items():
        due = ticket.occurred_at + timedelta(minutes=SLA_POLICIES[ticket.priority].first_reply_minutes)
        replied = first_reply.get(ticket_id)
        if replied is not None:
            outcomes.append(replied <= due)
        elif as_of > due:
            outcomes.append(False)
    return outcomes


def _std(values: Sequence[float]) -> float | None:
    if not values:
        return None
    mean = sum(values) / len(values)
    return math.sqrt(sum((value - mean) ** 2 for value in values) / len(values))
