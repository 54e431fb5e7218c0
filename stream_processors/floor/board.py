"""What the wall board shows, computed from the floor state at one moment.

Definitions follow ``cxa.metrics``: a ticket is *waiting* when it is open and no agent who is on
shift holds it; *at risk* when it has no first reply yet, its SLA clock is running (it is open:
pending, on hold and solved stop the clock) and its first-reply due time (when the clock, calendar
or business hours, reaches the target) is less than ``at_risk_within`` away (or already passed); *CSAT
today* counts ratings 4-5 over all ratings since midnight UTC; *backlog* is every ticket not solved or closed.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from cxa.marts import UNCATEGORIZED
from stream_processors.floor.state import RESOLVED, FloorState, _at, first_reply_due


@dataclass(frozen=True)
class QueueDepth:
    category: str
    priority: str
    waiting: int
    oldest_created_at: datetime


@dataclass(frozen=True)
class AtRisk:
    ticket_id: str
    priority: str
    category: str | None
    channel: str
    agent_id: str | None
    created_at: datetime
    due_at: datetime
    minutes_left: float


@dataclass(frozen=True)
class AgentLoad:
    agent_id: str
    status: str
    load: int
    capacity: int
    handled_today: int


@dataclass(frozen=True)
class Board:
    as_of: datetime
    waiting: int
    backlog: int
    oldest_waiting_at: datetime | None
    arrivals_last_minute: int
    arrivals_last_hour: int
    csat_positive_today: int
    csat_total_today: int
    queues: list[QueueDepth]
    at_risk: list[AtRisk]
    agents: list[AgentLoad]


def board(state: FloorState, now: datetime, at_risk_within: timedelta) -> Board:
    waiting = state.waiting(now, reroute_after=timedelta(0))
    queues: dict[tuple[str, str], list[datetime]] = {}
    for ticket in waiting:
        key = (ticket.category or UNCATEGORIZED, ticket.priority.value)
        queues.setdefault(key, []).append(ticket.created_at)
    at_risk = []
    backlog = 0
    for ticket_id, record in state.tickets.items():
        if record["status"] in RESOLVED:
            continue
        backlog += 1
        if record["first_reply_at"]:
            continue
        due = first_reply_due(record)
        if due is None:
            continue
        created_at = _at(record["created_at"])
        if due - now <= at_risk_within:
            at_risk.append(
                AtRisk(
                    ticket_id,
                    record["priority"],
                    record["category"],
                    record["channel"],
                    record["agent_id"],
                    created_at,
                    due,
                    (due - now).total_seconds() / 60,
                )
            )
    minutes = [f"arrivals:{now - timedelta(minutes=back):%Y-%m-%dT%H:%M}" for back in range(60)]
    arrivals = [(state.counters.get(key) or {"n": 0})["n"] for key in minutes]
    day = f"{now:%Y-%m-%d}"
    agents = state.agent_states(now)
    return Board(
        as_of=now,
        waiting=len(waiting),
        backlog=backlog,
        oldest_waiting_at=min((t.created_at for t in waiting), default=None),
        arrivals_last_minute=arrivals[1],  # the last complete minute
        arrivals_last_hour=sum(arrivals),
        csat_positive_today=(state.counters.get(f"csat:{day}:positive") or {"n": 0})["n"],
        csat_total_today=(state.counters.get(f"csat:{day}:total") or {"n": 0})["n"],
        queues=[QueueDepth(c, p, len(times), min(times)) for (c, p), times in sorted(queues.items())],
        at_risk=sorted(at_risk, key=lambda r: r.due_at),
        agents=[
            AgentLoad(a.agent_id, a.status.value, a.load, a.capacity, a.handled_today)
            for a in sorted(agents, key=lambda a: a.agent_id)
        ],
    )
