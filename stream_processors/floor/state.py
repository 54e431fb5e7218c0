"""The floor's current state, kept from events: waiting tickets, support agents, today's counters.

State lives in three mutable mappings of JSON-ready dicts (Faust tables in the worker, plain
dicts in tests): every change writes a whole new value, so a changelog-backed table records it.
"""

import functools
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cxa import events
from cxa.events import AgentStatus, Channel, Priority, TicketStatus
from cxa.metrics import SLA_POLICIES, cut_at_horizon, due_at
from stream_processors.routing import AgentState, WaitingTicket

Record = dict[str, Any]
FloorTable = MutableMapping[str, Record]

OPEN = TicketStatus.OPEN.value
_PRIORITIES = {priority.value: priority for priority in Priority}
_CHANNELS = {channel.value: channel for channel in Channel}
RESOLVED = {TicketStatus.SOLVED.value, TicketStatus.CLOSED.value}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


# The floor looks at every open ticket each round: the same timestamps and targets again and again.
@functools.lru_cache(maxsize=1 << 17)
def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _backoff(reroute_after: timedelta, ticket: Record) -> timedelta:
    """Each unanswered routing doubles the wait before the next (up to 64x): a ticket the ticketing
    system never assigns (closed elsewhere, or from a system that is gone) must not take the free
    agents of every round from the tickets that are really waiting."""
    return reroute_after * 2 ** min(max(ticket.get("routings", 1) - 1, 0), 6)


def first_reply_due(ticket: Record) -> datetime | None:
    """When the ticket's SLA clock reaches its first-reply target (kept by :func:`_run_clock`).
    None while the clock stands still (pending, on hold, solved): such a ticket is not at risk."""
    if ticket["status"] != OPEN:
        return None
    if "first_reply_due" not in ticket:  # kept by an earlier version: created + target + stopped
        target = SLA_POLICIES[Priority(ticket["priority"])].first_reply_minutes
        stopped = ticket.get("stopped_minutes", 0.0)
        return _at(ticket["created_at"]) + timedelta(minutes=target + stopped)
    due = ticket["first_reply_due"]
    return _at(due) if due else None


def _running(ticket: Record) -> list[list[str | None]]:
    """The stretches of running SLA clock, ``[start, end]`` (``end`` None while it runs)."""
    if "running" in ticket:
        return [list(stretch) for stretch in ticket["running"]]
    # Kept by an earlier version, which summed the stopped minutes: the same due time.
    start = _iso(_at(ticket["created_at"]) + timedelta(minutes=ticket.get("stopped_minutes", 0.0)))
    return [[start, None if ticket["status"] == OPEN else ticket.get("stopped_since") or start]]


def _run_clock(ticket: Record, status: str, moment: datetime, business_hours: bool) -> None:
    """Run the SLA clock while the ticket is open and stop it otherwise."""
    running = _running(ticket)
    was_open, is_open = ticket["status"] == OPEN, status == OPEN
    if was_open and not is_open:
        running[-1][1] = _iso(moment)
    elif is_open and not was_open:
        running.append([_iso(moment), None])
    for legacy in ("stopped_minutes", "stopped_since"):
        ticket.pop(legacy, None)
    _keep_due(ticket, running, business_hours)


def _keep_due(ticket: Record, running: list[list[str | None]], business_hours: bool) -> None:
    """Keep the clock and its first-reply due time, by the definition of ``cxa.metrics`` (calendar
    or business clock). The due time changes only when the clock stops or starts, so the rounds
    that read it every second need not work it out again."""
    stretches = [cut_at_horizon(_at(str(start)), _at(end) if end else None) for start, end in running]
    target = SLA_POLICIES[Priority(ticket["priority"])].first_reply_minutes
    due = due_at(target, stretches, business_hours=business_hours)
    ticket["running"], ticket["first_reply_due"] = running, _iso(due) if due else None


@dataclass
class FloorState:
    """Applies events to the tables and answers what the router and the wall board ask."""

    tickets: FloorTable
    agents: FloorTable
    counters: FloorTable
    business_hours: bool = False  # the SLA clock counts business hours only (else every minute)

    # -- applying events --------------------------------------------------------------------

    def apply(self, event: events.EventBase) -> None:
        if isinstance(event, events.TicketEventBase):
            self._apply_ticket(event)
        elif isinstance(event, events.AgentEventBase):
            self._apply_agent(event)

    def _apply_ticket(self, event: events.TicketEventBase) -> None:
        ticket_id = event.ticket_id
        if isinstance(event, events.TicketCreated):
            if ticket_id in self.tickets:
                return  # delivered again (at least once): the ticket has moved on since
            created: Record = {
                "priority": event.priority.value,
                "channel": event.channel.value,
                "language": event.language,
                "created_at": _iso(event.occurred_at),
                "category": None,
                "confidence": 0.0,
                "agent_id": None,
                "status": OPEN,
                "first_reply_at": None,
                "routed_at": None,
                "routings": 0,
            }
            _keep_due(created, [[created["created_at"], None]], self.business_hours)
            self.tickets[ticket_id] = created
            self._count(f"arrivals:{event.occurred_at:%Y-%m-%dT%H:%M}")
            return
        if isinstance(event, events.CsatSubmitted):
            day = f"{event.occurred_at:%Y-%m-%d}"
            self._count(f"csat:{day}:total")
            if event.rating >= 4:
                self._count(f"csat:{day}:positive")
            return
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return  # created before this floor started keeping state
        ticket = dict(ticket)
        if isinstance(event, events.CategoryPredicted):
            ticket["category"], ticket["confidence"] = event.category, event.confidence
        elif isinstance(event, events.TicketCategoryConfirmed | events.TicketCategoryCorrected):
            ticket["category"], ticket["confidence"] = event.category, 1.0
        elif isinstance(event, events.TicketAssigned):
            self._release(ticket_id, ticket)
            ticket["agent_id"], ticket["routed_at"], ticket["routings"] = event.agent_id, None, 0
            self._hold(ticket_id, ticket)
        elif isinstance(event, events.TicketPriorityChanged):
            # The latest priority sets the targets, from creation (as in cxa.metrics); a change
            # delivered late, older than the one applied, does not undo it.
            if event.occurred_at >= _at(ticket.get("priority_at") or ticket["created_at"]):
                ticket["priority"], ticket["priority_at"] = event.priority.value, _iso(event.occurred_at)
                _keep_due(ticket, _running(ticket), self.business_hours)
        elif isinstance(event, events.AgentReplied):
            ticket["first_reply_at"] = ticket["first_reply_at"] or _iso(event.occurred_at)
            self._bump_handled(event.agent_id, event.occurred_at)
        elif isinstance(event, events.TicketStatusChanged | events.TicketReopened):
            status = event.status.value if isinstance(event, events.TicketStatusChanged) else OPEN
            self._release(ticket_id, ticket)
            _run_clock(ticket, status, event.occurred_at, self.business_hours)
            ticket["status"] = status
            if status == TicketStatus.CLOSED.value:
                del self.tickets[ticket_id]
                return
            self._hold(ticket_id, ticket)
        self.tickets[ticket_id] = ticket

    def _hold(self, ticket_id: str, ticket: Record) -> None:
        """An open ticket counts against its agent's capacity."""
        agent = self.agents.get(ticket["agent_id"] or "")
        if agent is not None and ticket["status"] == OPEN and ticket_id not in agent["holding"]:
            self.agents[ticket["agent_id"]] = {**agent, "holding": [*agent["holding"], ticket_id]}

    def _release(self, ticket_id: str, ticket: Record) -> None:
        agent = self.agents.get(ticket["agent_id"] or "")
        if agent is not None and ticket_id in agent["holding"]:
            holding = [held for held in agent["holding"] if held != ticket_id]
            self.agents[ticket["agent_id"]] = {**agent, "holding": holding}

    def _bump_handled(self, agent_id: str, moment: datetime) -> None:
        agent = self.agents.get(agent_id)
        if agent is not None:
            day = f"{moment:%Y-%m-%d}"
            handled = agent["handled"] + 1 if agent["handled_day"] == day else 1
            self.agents[agent_id] = {**agent, "handled": handled, "handled_day": day}

    def _apply_agent(self, event: events.AgentEventBase) -> None:
        agent = dict(
            self.agents.get(event.agent_id)
            or {
                "status": AgentStatus.OFFLINE.value,
                "skills": {},
                "languages": ["en"],
                "capacity": 0,
                "holding": [],
                "handled": 0,
                "handled_day": "",
                "status_since": _iso(event.occurred_at),
            }
        )
        if isinstance(event, events.AgentStatusChanged):
            agent["status"], agent["status_since"] = event.status.value, _iso(event.occurred_at)
        elif isinstance(event, events.AgentCapacityChanged):
            agent["capacity"] = event.capacity
        elif isinstance(event, events.AgentSkillsChanged):
            agent["skills"], agent["languages"] = dict(event.skills), list(event.languages)
        self.agents[event.agent_id] = agent

    def _count(self, key: str) -> None:
        self.counters[key] = {"n": (self.counters.get(key) or {"n": 0})["n"] + 1}

    def mark_routed(self, ticket_ids: Iterable[str], now: datetime) -> None:
        """Routed tickets wait for their assignment and are not routed again meanwhile."""
        for ticket_id in ticket_ids:
            if ticket := self.tickets.get(ticket_id):
                routings = ticket.get("routings", 0) + 1
                self.tickets[ticket_id] = {**ticket, "routed_at": _iso(now), "routings": routings}

    def forget_counters_before(self, moment: datetime) -> None:
        for key in [k for k in self.counters if k.split(":")[1] < f"{moment:%Y-%m-%d}"]:
            del self.counters[key]

    # -- what the router needs --------------------------------------------------------------

    def waiting(self, now: datetime, reroute_after: timedelta) -> list[WaitingTicket]:
        """Open tickets without an agent who can work them: never assigned, or their agent left,
        and not routed within ``reroute_after`` (doubled after every unanswered routing)."""
        waiting = []
        for ticket_id, ticket in self.tickets.items():
            if ticket["status"] != OPEN or self._is_with_agent(ticket):
                continue
            if ticket["routed_at"] and now - _at(ticket["routed_at"]) < _backoff(reroute_after, ticket):
                continue
            created_at = _at(ticket["created_at"])
            waiting.append(
                WaitingTicket(
                    ticket_id=ticket_id,
                    category=ticket["category"],
                    category_confidence=ticket["confidence"] if ticket["category"] else 0.0,
                    priority=_PRIORITIES[ticket["priority"]],
                    language=ticket["language"],
                    created_at=created_at,
                    sla_due_at=first_reply_due(ticket) or created_at,  # open, so never None
                    channel=_CHANNELS[ticket["channel"]],
                )
            )
        return waiting

    def _is_with_agent(self, ticket: Record) -> bool:
        """Assigned to an agent who is online or away (not offline), so they will get to it."""
        agent = self.agents.get(ticket["agent_id"] or "")
        return agent is not None and agent["status"] != AgentStatus.OFFLINE.value

    def agent_states(self, now: datetime) -> list[AgentState]:
        today = f"{now:%Y-%m-%d}"
        return [
            AgentState(
                agent_id=agent_id,
                status=AgentStatus(agent["status"]),
                skills=agent["skills"],
                languages=frozenset(agent["languages"]),
                capacity=agent["capacity"],
                load=len(agent["holding"]),
                handled_today=agent["handled"] if agent["handled_day"] == today else 0,
            )
            for agent_id, agent in self.agents.items()
        ]
