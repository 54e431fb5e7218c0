"""The ticketing system and its support agents as a discrete-event simulation.

Tickets arrive (``arrivals``), wait in a queue, are assigned to an agent who is on shift, online and
below capacity, and then live a realistic life: agent replies after a handle time that depends on
channel, category and the agent's proficiency; the ticket is solved, or waits on the customer
(pending) or a third party (on hold); customers reply; solved tickets close after four days unless
reopened; some customers rate the service, more happily when they waited less. The true category,
hidden when the ticket is created, is confirmed (or corrected) by the agent after the first reply;
at that first reply the agent also corrects some tickets' priority (triage), mostly upwards.

Every state change is emitted as a contract event at its simulated time, in time order. Backfill
runs the clock as fast as it can; live mode paces it on the wall clock and lets an external router
assign tickets (``route``), with a fallback policy after a timeout.
"""

import heapq
import math
import random
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import IntEnum

from cxa import events
from cxa.events import AgentStatus, Channel, Priority, TicketStatus
from producers.simulation.arrivals import ArrivalProcess
from producers.simulation.reference import Agent, Customer, pick
from producers.simulation.settings import FallbackPolicy, SimulationSettings
from producers.simulation.shape import ArrivalShape
from producers.simulation.texts import TextBank

Emit = Callable[[events.EventBase], None]

PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
BY_RANK = sorted(PRIORITY_RANK, key=PRIORITY_RANK.__getitem__)
RAISED_AT_TRIAGE = 0.7  # of the priorities an agent corrects, the share raised
REAL_TIME = {Channel.CHAT, Channel.PHONE}
# Minutes of agent work per reply, by channel (before category, skill and noise factors).
WORK_MINUTES = {
    Channel.CHAT: 7.0,
    Channel.PHONE: 9.0,
    Channel.EMAIL: 12.0,
    Channel.WEB: 12.0,
    Channel.SOCIAL: 8.0,
}
# Median minutes until the customer answers a pending ticket, by channel.
CUSTOMER_MINUTES = {
    Channel.CHAT: 3.0,
    Channel.PHONE: 5.0,
    Channel.EMAIL: 150.0,
    Channel.WEB: 180.0,
    Channel.SOCIAL: 90.0,
}
CLOSE_AFTER = timedelta(days=4)
IDLE_SOLVE_AFTER = timedelta(days=3)

_EVENT_NAMESPACE = uuid.UUID("0b3b7c1e-52f4-4bd6-9a0e-6c1d2a9f4e21")


class Kind(IntEnum):
    ARRIVAL = 0
    SHIFT_START = 1
    BREAK_START = 2
    BREAK_END = 3
    SHIFT_END = 4
    WORK_DONE = 5
    CUSTOMER_REPLY = 6
    HOLD_END = 7
    IDLE_SOLVE = 8
    REOPEN = 9
    CLOSE = 10
    CSAT = 11
    LABEL = 12
    ROUTE_TIMEOUT = 13


@dataclass
class Ticket:
    ticket_id: str
    customer: Customer
    channel: Channel
    priority: Priority
    category: str
    created_at: float
    agent_id: str | None = None
    status: TicketStatus = TicketStatus.OPEN
    replies: int = 0
    transfers: int = 0
    reopened: int = 0
    first_reply_at: float | None = None
    awaiting_route: bool = False
    generation: int = 0  # bumped on every state change that invalidates scheduled events


@dataclass
class Staff:
    agent: Agent
    status: AgentStatus = AgentStatus.OFFLINE
    active: set[str] = field(default_factory=set)
    backlog: deque[str] = field(default_factory=deque)

    @property
    def load(self) -> int:
        return len(self.active) + len(self.backlog)

    @property
    def available(self) -> bool:
        return self.status is AgentStatus.ONLINE and self.load < self.agent.capacity


class Simulation:
    """One simulated support centre; call :meth:`run_until` to advance its clock."""

    def __init__(
        self,
        settings: SimulationSettings,
        texts: TextBank,
        shape: ArrivalShape,
        customers: list[Customer],
        agents: list[Agent],
        start: datetime,
        emit: Emit,
        *,
        external_routing: bool = False,
        policy: FallbackPolicy | None = None,
        id_prefix: str | None = None,
    ) -> None:
        self.settings = settings
        self.texts = texts
        self.emit_event = emit
        self.external_routing = external_routing
        self.policy: FallbackPolicy = policy or settings.fallback_policy
        self.rng = random.Random(settings.seed)
        # Triage draws from its own generator, with ids of its own: it takes none of the main
        # generator's draws (a changed priority can still reorder a ticket queued again).
        self.triage = random.Random(f"{settings.seed}/triage")
        self.customers = customers
        self.customer_weights = [c.activity for c in customers]
        self.staff = {agent.agent_id: Staff(agent) for agent in agents}
        self.tickets: dict[str, Ticket] = {}  # closed tickets are forgotten
        self.ticket_count = 0
        self.id_prefix = id_prefix or f"T{settings.seed}"
        self._ids_follow_prefix = id_prefix is not None
        self.queue: list[tuple[int, float, str]] = []
        self.heap: list[tuple[float, int, Kind, str]] = []
        self.sequence = 0
        self.round_robin = 0
        self.now = start.timestamp()
        counts = {category: float(len(texts.by_category[category])) for category in texts.categories}
        self.arrivals = ArrivalProcess(settings, shape, counts, start.date())
        self.category_effort = {c: self.rng.lognormvariate(0, 0.3) for c in texts.categories}
        self.next_day: date = start.date()
        self.emitted = 0
        self._introduce_agents(start)
        self._plan_shifts(start.date() - timedelta(days=1))  # night shifts still running

    # -- plumbing ---------------------------------------------------------------------------

    def _at(self, timestamp: float) -> datetime:
        return datetime.fromtimestamp(timestamp, UTC)

    def _event_id(self) -> uuid.UUID:
        bits = self.rng.getrandbits(128)  # drawn either way, so the rest of the run is the same
        if self._ids_follow_prefix:
            # A run with a prefix of its own (live) must not repeat another run's event ids: the sink
            # would take its events for ones it already has and drop them.
            return uuid.uuid5(_EVENT_NAMESPACE, f"{self.id_prefix}/{self.emitted}")
        return uuid.UUID(int=bits, version=4)

    def emit(
        self, model: type[events.EventBase], event_id: uuid.UUID | None = None, **fields: object
    ) -> None:
        self.emitted += 1
        identity = event_id or self._event_id()
        self.emit_event(model(event_id=identity, occurred_at=self._at(self.now), **fields))

    def schedule(self, at: float, kind: Kind, ref: str) -> None:
        self.sequence += 1
        heapq.heappush(self.heap, (at, self.sequence, kind, ref))

    def _later(self, minutes: float, kind: Kind, ticket: Ticket) -> None:
        self.schedule(self.now + minutes * 60, kind, f"{ticket.ticket_id}|{ticket.generation}")

    # -- the clock --------------------------------------------------------------------------

    def run_until(self, end: datetime) -> None:
        """Process every simulated happening before ``end``, emitting events in time order."""
        limit = end.timestamp()
        while True:
            next_day_at = datetime.combine(self.next_day, datetime.min.time(), tzinfo=UTC).timestamp()
            if next_day_at < limit and (not self.heap or self.heap[0][0] >= next_day_at):
                self._plan_day(self.next_day)
                self.next_day += timedelta(days=1)
                continue
            if not self.heap or self.heap[0][0] >= limit:
                break
            at, _, kind, ref = heapq.heappop(self.heap)
            self.now = max(self.now, at)
            self._handle(kind, ref)
        self.now = max(self.now, limit)

    def next_happening(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def _plan_day(self, day: date) -> None:
        for arrival in self.arrivals.day(day):
            if arrival.at.timestamp() < self.now:
                continue  # the simulation started later that day
            ticket = self._new_ticket(arrival.category, arrival.at.timestamp())
            self.schedule(ticket.created_at, Kind.ARRIVAL, ticket.ticket_id)
        self._plan_shifts(day)

    def _plan_shifts(self, day: date) -> None:
        """The shift, break and end of every agent working ``day`` (still ahead of the clock)."""
        for staff in self.staff.values():
            agent = staff.agent
            if day.isoweekday() not in agent.work_days:
                continue
            start = datetime.combine(day, agent.shift_start, tzinfo=UTC).timestamp()
            hours = agent.shift_hours * 3600
            for offset, kind in (
                (0, Kind.SHIFT_START),
                (hours / 2 - 900, Kind.BREAK_START),
                (hours / 2 + 900, Kind.BREAK_END),
                (hours, Kind.SHIFT_END),
            ):
                if start + offset >= self.now:
                    self.schedule(start + offset, kind, agent.agent_id)

    def _new_ticket(self, category: str, created_at: float) -> Ticket:
        rng = self.rng
        customer = rng.choices(self.customers, weights=self.customer_weights)[0]
        self.ticket_count += 1
        ticket = Ticket(
            ticket_id=f"{self.id_prefix}-{self.ticket_count:08d}",
            customer=customer,
            channel=Channel(pick(rng, self.settings.channel_mix)),
            priority=Priority(pick(rng, self.settings.priority_mix)),
            category=category,
            created_at=created_at,
        )
        self.tickets[ticket.ticket_id] = ticket
        return ticket

    def _introduce_agents(self, start: datetime) -> None:
        for staff in self.staff.values():
            agent = staff.agent
            self.emit(
                events.AgentSkillsChanged,
                agent_id=agent.agent_id,
                skills=agent.skills,
                languages=list(agent.languages),
            )
            self.emit(events.AgentCapacityChanged, agent_id=agent.agent_id, capacity=agent.capacity)
            staff.status = AgentStatus.ONLINE if agent.on_shift(start) else AgentStatus.OFFLINE
            self.emit(events.AgentStatusChanged, agent_id=agent.agent_id, status=staff.status)

    # -- what happens -----------------------------------------------------------------------

    def _handle(self, kind: Kind, ref: str) -> None:
        if kind is Kind.ARRIVAL:
            self._arrive(self.tickets[ref])
        elif kind in (Kind.SHIFT_START, Kind.BREAK_START, Kind.BREAK_END, Kind.SHIFT_END):
            self._shift(kind, self.staff[ref])
        else:
            ticket_id, generation = ref.rsplit("|", 1)
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return  # closed and forgotten
            if int(generation) == ticket.generation or kind in (Kind.CSAT, Kind.LABEL):
                self._ticket_happening(kind, ticket)

    def _arrive(self, ticket: Ticket) -> None:
        subject, body = self.texts.draw(self.rng, ticket.category)
        self.emit(
            events.TicketCreated,
            ticket_id=ticket.ticket_id,
            customer_id=ticket.customer.customer_id,
            channel=ticket.channel,
            priority=ticket.priority,
            subject=subject,
            body=body,
            language=ticket.customer.language,
        )
        self._wait_for_agent(ticket)

    def _wait_for_agent(self, ticket: Ticket) -> None:
        if self.external_routing:
            ticket.awaiting_route = True
            self._later(self.settings.route_timeout_seconds / 60, Kind.ROUTE_TIMEOUT, ticket)
        else:
            self._enqueue(ticket)

    def _enqueue(self, ticket: Ticket) -> None:
        heapq.heappush(self.queue, (PRIORITY_RANK[ticket.priority], ticket.created_at, ticket.ticket_id))
        self._dispatch()

    def _shift(self, kind: Kind, staff: Staff) -> None:
        status = {
            Kind.SHIFT_START: AgentStatus.ONLINE,
            Kind.BREAK_START: AgentStatus.AWAY,
            Kind.BREAK_END: AgentStatus.ONLINE,
            Kind.SHIFT_END: AgentStatus.OFFLINE,
        }[kind]
        if staff.status is status:
            return
        staff.status = status
        self.emit(events.AgentStatusChanged, agent_id=staff.agent.agent_id, status=status)
        if status is AgentStatus.OFFLINE:
            while staff.backlog:  # nobody will answer these today: hand them on
                self._transfer(self.tickets[staff.backlog.popleft()])
        elif status is AgentStatus.ONLINE:
            self._work_backlog(staff)
            self._dispatch()

    def _ticket_happening(self, kind: Kind, ticket: Ticket) -> None:
        if kind is Kind.WORK_DONE:
            self._reply(ticket)
        elif kind is Kind.CUSTOMER_REPLY:
            self.emit(
                events.CustomerReplied, ticket_id=ticket.ticket_id, customer_id=ticket.customer.customer_id
            )
            self._set_status(ticket, TicketStatus.OPEN)
            self._back_to_agent(ticket)
        elif kind is Kind.HOLD_END:
            self._set_status(ticket, TicketStatus.OPEN)
            self._back_to_agent(ticket)
        elif kind is Kind.IDLE_SOLVE:
            self._solve(ticket)
        elif kind is Kind.REOPEN:
            ticket.reopened += 1
            self.emit(
                events.TicketReopened, ticket_id=ticket.ticket_id, customer_id=ticket.customer.customer_id
            )
            self._set_status(ticket, TicketStatus.OPEN)
            self._back_to_agent(ticket)
        elif kind is Kind.CLOSE:
            self._set_status(ticket, TicketStatus.CLOSED)
            del self.tickets[ticket.ticket_id]
        elif kind is Kind.CSAT:
            self.emit(events.CsatSubmitted, ticket_id=ticket.ticket_id, rating=self._rating(ticket))
        elif kind is Kind.LABEL:
            self._label(ticket)
        elif kind is Kind.ROUTE_TIMEOUT and ticket.awaiting_route:
            ticket.awaiting_route = False
            self._enqueue(ticket)

    def _set_status(self, ticket: Ticket, status: TicketStatus) -> None:
        ticket.status = status
        ticket.generation += 1
        self.emit(
            events.TicketStatusChanged, ticket_id=ticket.ticket_id, status=status, agent_id=ticket.agent_id
        )

    # -- assignment -------------------------------------------------------------------------

    def route(self, ticket_id: str, agent_id: str, policy: str) -> bool:
        """Apply an external routing decision; False when it cannot be applied any more."""
        ticket = self.tickets.get(ticket_id)
        staff = self.staff.get(agent_id)
        if ticket is None or staff is None or not ticket.awaiting_route or not staff.available:
            return False
        ticket.awaiting_route = False
        self._assign(ticket, staff, f"router:{policy}")
        return True

    def _dispatch(self) -> None:
        """Give waiting tickets, most urgent first, to available agents by the fallback policy."""
        if not self.queue:
            return
        available = [staff for staff in self.staff.values() if staff.available]
        while self.queue and available:
            _, _, ticket_id = heapq.heappop(self.queue)
            ticket = self.tickets[ticket_id]
            staff = self._choose(ticket, available)
            self._assign(ticket, staff, self.policy)
            if not staff.available:
                available.remove(staff)

    def _choose(self, ticket: Ticket, available: list[Staff]) -> Staff:
        speakers = [s for s in available if ticket.customer.language in s.agent.languages]
        pool = speakers or available
        if self.policy == "round-robin":
            self.round_robin += 1
            return pool[self.round_robin % len(pool)]
        if self.policy == "least-loaded":
            return min(pool, key=lambda s: (s.load / s.agent.capacity, s.agent.agent_id))
        return max(
            pool, key=lambda s: s.agent.skills.get(ticket.category, 0.05) - 0.2 * s.load / s.agent.capacity
        )

    def _assign(self, ticket: Ticket, staff: Staff, policy: str) -> None:
        if ticket.agent_id is not None:
            ticket.transfers += 1
        ticket.agent_id = staff.agent.agent_id
        self.emit(
            events.TicketAssigned, ticket_id=ticket.ticket_id, agent_id=ticket.agent_id, policy=policy[:50]
        )
        self._start_work(staff, ticket)

    def _transfer(self, ticket: Ticket) -> None:
        self._wait_for_agent(ticket)

    def _back_to_agent(self, ticket: Ticket) -> None:
        staff = self.staff[ticket.agent_id] if ticket.agent_id else None
        if staff is None or staff.status is AgentStatus.OFFLINE:
            self._transfer(ticket)
        elif staff.status is AgentStatus.ONLINE and staff.load < staff.agent.capacity:
            self._start_work(staff, ticket)
        else:
            staff.backlog.append(ticket.ticket_id)

    def _start_work(self, staff: Staff, ticket: Ticket) -> None:
        if staff.status is not AgentStatus.ONLINE:
            staff.backlog.append(ticket.ticket_id)
            return
        staff.active.add(ticket.ticket_id)
        proficiency = staff.agent.skills.get(ticket.category, 0.05)
        minutes = (
            self.rng.uniform(0.3, 2.0)  # picking it up
            + WORK_MINUTES[ticket.channel]
            * self.category_effort[ticket.category]
            * (1.7 - 0.9 * proficiency)
            * self.rng.lognormvariate(0, 0.45)
        )
        self._later(minutes, Kind.WORK_DONE, ticket)

    def _work_backlog(self, staff: Staff) -> None:
        while (
            staff.backlog and staff.status is AgentStatus.ONLINE and len(staff.active) < staff.agent.capacity
        ):
            self._start_work(staff, self.tickets[staff.backlog.popleft()])

    # -- the agent's reply and what follows -------------------------------------------------

    def _reply(self, ticket: Ticket) -> None:
        assert ticket.agent_id is not None
        staff = self.staff[ticket.agent_id]
        staff.active.discard(ticket.ticket_id)
        ticket.replies += 1
        if ticket.first_reply_at is None:
            self._triage(ticket, ticket.agent_id)
        self.emit(events.AgentReplied, ticket_id=ticket.ticket_id, agent_id=ticket.agent_id)
        if ticket.first_reply_at is None:
            ticket.first_reply_at = self.now
            self._later(self.rng.lognormvariate(math.log(10), 0.8), Kind.LABEL, ticket)
        rng = self.rng
        solve_chance = 0.82 if ticket.channel in REAL_TIME else (0.45 if ticket.replies == 1 else 0.7)
        if rng.random() < solve_chance:
            self._solve(ticket)
        elif rng.random() < 0.08:
            self._set_status(ticket, TicketStatus.ON_HOLD)
            self._later(rng.lognormvariate(math.log(180), 0.7), Kind.HOLD_END, ticket)
        else:
            self._set_status(ticket, TicketStatus.PENDING)
            if rng.random() < 0.88:
                median = CUSTOMER_MINUTES[ticket.channel]
                self._later(rng.lognormvariate(math.log(median), 0.9), Kind.CUSTOMER_REPLY, ticket)
            else:
                self._later(IDLE_SOLVE_AFTER.total_seconds() / 60, Kind.IDLE_SOLVE, ticket)
        self._work_backlog(staff)
        self._dispatch()

    def _triage(self, ticket: Ticket, agent_id: str) -> None:
        """Reading the ticket, the agent corrects some priorities by one step, mostly upwards."""
        if self.triage.random() >= self.settings.priority_change_rate:
            return
        rank = PRIORITY_RANK[ticket.priority]
        raised = self.triage.random() < RAISED_AT_TRIAGE
        rank = rank - 1 if (raised and rank > 0) or rank == len(BY_RANK) - 1 else rank + 1
        ticket.priority = BY_RANK[rank]
        self.emit(
            events.TicketPriorityChanged,
            event_id=uuid.uuid5(_EVENT_NAMESPACE, f"{self.id_prefix}/{ticket.ticket_id}/triage"),
            ticket_id=ticket.ticket_id,
            priority=ticket.priority,
            agent_id=agent_id,
        )

    def _solve(self, ticket: Ticket) -> None:
        self._set_status(ticket, TicketStatus.SOLVED)
        rng = self.rng
        if rng.random() < self.settings.csat_response_rate:
            self._later(rng.lognormvariate(math.log(120), 1.0), Kind.CSAT, ticket)
        if rng.random() < self.settings.reopen_rate / (1 + ticket.reopened):
            self._later(rng.uniform(120, 72 * 60), Kind.REOPEN, ticket)
        else:
            self._later(CLOSE_AFTER.total_seconds() / 60, Kind.CLOSE, ticket)

    def _rating(self, ticket: Ticket) -> int:
        """CSAT falls with the wait for the first reply, the time to solve, reopens and transfers."""
        first_wait_h = ((ticket.first_reply_at or self.now) - ticket.created_at) / 3600
        resolution_h = (self.now - ticket.created_at) / 3600
        logit = (
            2.4
            - 0.55 * math.log1p(first_wait_h)
            - 0.3 * math.log1p(resolution_h)
            - 0.8 * ticket.reopened
            - 0.35 * ticket.transfers
        )
        if self.rng.random() < 1 / (1 + math.exp(-logit)):
            return 5 if self.rng.random() < 0.6 else 4
        return self.rng.choices((1, 2, 3), weights=(0.3, 0.3, 0.4))[0]

    def _label(self, ticket: Ticket) -> None:
        agent_id = ticket.agent_id or "unknown"
        if self.rng.random() < self.settings.wrong_first_guess_share:
            others = [c for c in self.texts.categories if c != ticket.category]
            self.emit(
                events.TicketCategoryCorrected,
                ticket_id=ticket.ticket_id,
                agent_id=agent_id,
                category=ticket.category,
                previous_category=self.rng.choice(others) if others else None,
            )
        else:
            self.emit(
                events.TicketCategoryConfirmed,
                ticket_id=ticket.ticket_id,
                agent_id=agent_id,
                category=ticket.category,
            )
