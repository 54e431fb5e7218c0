"""Routing quality in the closed loop: the simulated support centre routed by each policy.

Every policy faces the same seeded workload: the simulator (``producers.simulation``) runs with
external routing, and every ``interval_seconds`` of simulated time the router
(``stream_processors.routing.route``) gets the tickets waiting for a decision and the floor's
state, and its decisions are applied with ``Simulation.route``. Ticks where nothing happened are
skipped (the router would see the same floor); a ticket the router leaves waiting falls back to the
simulator's own policy after ``route_timeout_seconds``. Every emitted event is kept in memory and
the metrics come from them (:mod:`bench.routing_quality`).

The categorizer does not run here: the router is told each ticket's true category with probability
``category_accuracy`` (confidence drawn from U(0.6, 1.0)), else a random other category (confidence
from U(0.2, 0.7)), drawn per ticket so every policy sees the same predictions.

For comparison the simulator's own policies run without any router (``simulator:least-loaded``,
``simulator:skills``): a ticket is dispatched the moment it arrives or capacity frees, with no
micro-batch delay.
"""

import logging
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.routing_quality import RoutingQuality, assess, percentile
from cxa import events
from cxa.events import AgentStatus
from cxa.metrics import SLA_POLICIES
from producers.simulation.engine import Emit, Simulation, Ticket
from producers.simulation.reference import generate_agents, generate_customers
from producers.simulation.settings import FallbackPolicy, SimulationSettings
from producers.simulation.shape import ArrivalShape
from producers.simulation.texts import TextBank
from stream_processors.routing import AgentState, Policy, RoutingConfig, WaitingTicket, route

log = logging.getLogger(__name__)

ROUTER_LABEL = "router:"  # how the simulator labels an assignment made by Simulation.route
SIMULATOR_POLICIES: tuple[FallbackPolicy, ...] = ("least-loaded", "skills")
SIMULATOR_PREFIX = "simulator:"


@dataclass(frozen=True)
class Workload:
    """What every policy faces: a seeded centre, measured over ``days`` from ``start``.

    The run goes on ``drain_hours`` past the window so its last tickets can be assigned and
    answered; only tickets created inside the window are measured.
    """

    start: datetime = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    days: int = 4
    drain_hours: float = 24.0
    seed: int = 7
    agents: int = 36
    tickets_per_day: float = 820.0
    customers: int = 5_000
    category_accuracy: float = 0.85
    interval_seconds: float = 1.0
    route_timeout_seconds: float = 12 * 3600.0

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def run_end(self) -> datetime:
        return self.end + timedelta(hours=self.drain_hours)

    def settings(self) -> SimulationSettings:
        return SimulationSettings(
            seed=self.seed,
            agents=self.agents,
            tickets_per_day=self.tickets_per_day,
            customers=self.customers,
            route_timeout_seconds=self.route_timeout_seconds,
            fallback_policy="least-loaded",
        )


class SeededWorkload(Simulation):
    """The simulator with each new ticket's customer, channel and priority drawn from a stream of
    their own, so every policy faces the same tickets (arrival times and true categories already
    come from the arrival process's own generator; handle times and customer behaviour still
    follow the shared one, as they depend on who handles the ticket)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workload_rng = random.Random(f"workload-{self.settings.seed}")

    def _new_ticket(self, category: str, created_at: float) -> Ticket:
        shared, self.rng = self.rng, self.workload_rng
        try:
            return super()._new_ticket(category, created_at)
        finally:
            self.rng = shared


def build(workload: Workload, emit: Emit, *, policy: FallbackPolicy | None = None) -> SeededWorkload:
    """The centre of ``workload``; routed externally unless ``policy`` names a simulator policy."""
    settings = workload.settings()
    texts = TextBank.load(settings.texts_path, settings.text_column, settings.label_column)
    return SeededWorkload(
        settings,
        texts,
        ArrivalShape.load(),
        generate_customers(settings, workload.start),
        generate_agents(settings, texts.categories, workload.start),
        workload.start,
        emit,
        external_routing=policy is None,
        policy=policy,
    )


@dataclass
class RouterLog:
    """What the router did in one run."""

    batches: Counter[str] = field(default_factory=Counter)  # by the policy that decided
    decision_ms: list[float] = field(default_factory=list)
    decisions: Counter[str] = field(default_factory=Counter)
    rejected: int = 0


@dataclass
class Run:
    policy: str
    events: list[events.EventBase]
    router: RouterLog
    wall_seconds: float


class Floor:
    """The router's view of the simulated floor, kept up to date tick by tick."""

    def __init__(self, simulation: Simulation, workload: Workload) -> None:
        self.simulation = simulation
        self.workload = workload
        self.categories = list(simulation.texts.categories)
        self.agent_ids = sorted(simulation.staff)
        self.watch: set[str] = set()  # tickets that may be waiting for a decision
        self.predicted: dict[str, WaitingTicket] = {}
        self.handled_today: Counter[str] = Counter()
        self.online_seconds: defaultdict[str, float] = defaultdict(float)
        self.busy_seconds: defaultdict[str, float] = defaultdict(float)
        self.day = workload.start.date()
        self.states: dict[str, tuple[tuple[object, ...], AgentState]] = {}

    def observe(self, new: Sequence[events.EventBase], elapsed: float) -> None:
        """Take in the events of the last tick and the ``elapsed`` simulated seconds it covered."""
        today = datetime.fromtimestamp(self.simulation.now, UTC).date()
        if today != self.day:
            self.day = today
            self.handled_today.clear()
            self.online_seconds.clear()
            self.busy_seconds.clear()
        for agent_id, staff in self.simulation.staff.items():
            if staff.status is AgentStatus.ONLINE:
                self.online_seconds[agent_id] += elapsed
                self.busy_seconds[agent_id] += (
                    elapsed * min(staff.load, staff.agent.capacity) / staff.agent.capacity
                )
        rescan = False
        for event in new:
            if isinstance(event, events.TicketCreated):
                self.watch.add(event.ticket_id)
            elif isinstance(event, events.TicketAssigned):
                self.handled_today[event.agent_id] += 1
            elif isinstance(event, events.AgentStatusChanged) and event.status is AgentStatus.OFFLINE:
                rescan = True  # a shift ended: its backlog waits for a decision again
        if rescan:
            self.watch |= {t for t, ticket in self.simulation.tickets.items() if ticket.awaiting_route}

    def waiting(self) -> list[WaitingTicket]:
        tickets = self.simulation.tickets
        waiting = []
        for ticket_id in sorted(self.watch):  # a set's order varies between processes
            ticket = tickets.get(ticket_id)
            if ticket is None or not ticket.awaiting_route:
                self.watch.discard(ticket_id)
            else:
                waiting.append(self._prediction(ticket))
        return waiting

    def _prediction(self, ticket: Ticket) -> WaitingTicket:
        known = self.predicted.get(ticket.ticket_id)
        if known is not None:
            return known
        rng = random.Random(f"prediction-{self.workload.seed}-{ticket.ticket_id}")
        if rng.random() < self.workload.category_accuracy or len(self.categories) < 2:
            category, confidence = ticket.category, rng.uniform(0.6, 1.0)
        else:
            category = rng.choice([c for c in self.categories if c != ticket.category])
            confidence = rng.uniform(0.2, 0.7)
        created_at = datetime.fromtimestamp(ticket.created_at, UTC)
        target = timedelta(minutes=SLA_POLICIES[ticket.priority].first_reply_minutes)
        waiting = WaitingTicket(
            ticket_id=ticket.ticket_id,
            category=category,
            category_confidence=confidence,
            priority=ticket.priority,
            language=ticket.customer.language,
            created_at=created_at,
            sla_due_at=created_at + target,
            channel=ticket.channel,
        )
        self.predicted[ticket.ticket_id] = waiting
        return waiting

    def has_room(self) -> bool:
        return any(staff.available for staff in self.simulation.staff.values())

    def agents(self) -> list[AgentState]:
        """Every agent's state, sorted by id (a stable rotation for round robin)."""
        states = []
        for agent_id in self.agent_ids:
            staff = self.simulation.staff[agent_id]
            online = self.online_seconds[agent_id]
            occupancy = round(self.busy_seconds[agent_id] / online, 2) if online else 0.0
            key = (staff.status, staff.load, self.handled_today[agent_id], occupancy)
            cached = self.states.get(agent_id)
            if cached is None or cached[0] != key:
                agent = staff.agent
                state = AgentState(
                    agent_id=agent_id,
                    status=staff.status,
                    skills=agent.skills,
                    languages=frozenset(agent.languages),
                    capacity=agent.capacity,
                    load=staff.load,
                    handled_today=self.handled_today[agent_id],
                    occupancy=min(1.0, occupancy),
                )
                cached = (key, state)
                self.states[agent_id] = cached
            states.append(cached[1])
        return states


def run_router(workload: Workload, policy: Policy, config: RoutingConfig) -> Run:
    """One closed-loop run of ``workload`` with the router deciding under ``policy``."""
    emitted: list[events.EventBase] = []
    started = time.perf_counter()
    simulation = build(workload, emitted.append)
    floor = Floor(simulation, workload)
    router = RouterLog()
    origin = workload.start.timestamp()
    end = workload.run_end.timestamp()
    interval = workload.interval_seconds
    seen = 0
    turn = 0
    while simulation.now < end:
        upcoming = simulation.next_happening()
        # the next day's arrivals and shifts are planned when the clock passes its midnight
        midnight = datetime.combine(simulation.next_day, datetime.min.time(), tzinfo=UTC).timestamp()
        target = min(upcoming, midnight) if upcoming is not None else midnight
        tick = origin + (math.floor((max(target, simulation.now) - origin) / interval) + 1) * interval
        tick = min(tick, end)
        before = simulation.now
        simulation.run_until(datetime.fromtimestamp(tick, UTC))
        new = emitted[seen:]
        floor.observe(new, simulation.now - before)
        seen = len(emitted)
        if not new:
            continue
        waiting = floor.waiting()
        if not waiting or not floor.has_room():
            continue
        agents = floor.agents()
        now = datetime.fromtimestamp(simulation.now, UTC)
        decided = time.perf_counter()
        decisions = route(waiting, agents, now, policy, config, turn=turn)
        router.decision_ms.append((time.perf_counter() - decided) * 1000)
        router.batches[decisions[0].policy.value if decisions else "none"] += 1
        for decision in decisions:
            router.decisions[decision.policy.value] += 1
            if not simulation.route(decision.ticket_id, decision.agent_id, decision.policy.value):
                router.rejected += 1
        if policy is Policy.ROUND_ROBIN and decisions:
            created = {ticket.ticket_id: ticket.created_at for ticket in waiting}
            last = max(decisions, key=lambda d: (created[d.ticket_id], d.ticket_id))
            turn = floor.agent_ids.index(last.agent_id) + 1
        floor.observe(emitted[seen:], 0.0)  # the decisions' own events, which are no news to route on
        seen = len(emitted)
    return Run(policy.value, emitted, router, time.perf_counter() - started)


def run_simulator(workload: Workload, policy: FallbackPolicy) -> Run:
    """One run of ``workload`` dispatched by the simulator's own ``policy``, no router."""
    emitted: list[events.EventBase] = []
    started = time.perf_counter()
    simulation = build(workload, emitted.append, policy=policy)
    simulation.run_until(workload.run_end)
    return Run(SIMULATOR_PREFIX + policy, emitted, RouterLog(), time.perf_counter() - started)


def summarise(run: Run, workload: Workload, skill_threshold: float) -> dict[str, Any]:
    """One flat result row of a run: quality metrics, then who decided and how fast."""
    quality: RoutingQuality = assess(
        run.events, workload.start, workload.end, workload.run_end, skill_threshold=skill_threshold
    )
    by_policy = quality.assignments_by_policy
    ms = run.router.decision_ms
    return {
        "policy": run.policy,
        "tickets": quality.tickets,
        "unassigned": quality.unassigned,
        "mean_wait_min": quality.mean_wait_minutes,
        "p90_wait_min": quality.p90_wait_minutes,
        "sla_attainment": quality.sla_attainment,
        "skill_match": quality.skill_match_rate,
        "occupancy_mean": quality.mean_occupancy,
        "occupancy_std": quality.occupancy_std,
        "occupancy_p90_p10": quality.occupancy_p90_p10,
        "csat_positive": quality.csat_positive_share,
        "router_assigned": sum(n for label, n in by_policy.items() if label.startswith(ROUTER_LABEL)),
        "timeout_fallback": sum(n for label, n in by_policy.items() if not label.startswith(ROUTER_LABEL)),
        "rejected": run.router.rejected,
        "batches": run.router.batches.total(),
        "optimizer_batches": run.router.batches.get(Policy.OPTIMIZER.value, 0),
        "greedy_fallback_batches": run.router.batches.get(Policy.GREEDY_FALLBACK.value, 0),
        "batch_p95_ms": percentile(ms, 0.95) if ms else None,
        "wall_s": run.wall_seconds,
    }


@dataclass(frozen=True)
class Variant:
    """A router policy under a configuration, named for the results table."""

    label: str
    policy: Policy
    config: RoutingConfig = field(default_factory=RoutingConfig)


DEFAULT_VARIANTS = (
    Variant("optimizer", Policy.OPTIMIZER),
    Variant("optimizer (min_skill 0)", Policy.OPTIMIZER, RoutingConfig(min_skill=0.0)),
    Variant("greedy", Policy.GREEDY),
    Variant("least-loaded", Policy.LEAST_LOADED),
    Variant("round-robin", Policy.ROUND_ROBIN),
)


def run(
    workload: Workload,
    variants: Sequence[Variant] = DEFAULT_VARIANTS,
    simulator_policies: Sequence[FallbackPolicy] = SIMULATOR_POLICIES,
    skill_threshold: float = 0.6,
) -> list[dict[str, Any]]:
    """One row per router variant, then one per simulator policy, all on ``workload``."""
    rows = []
    for variant in variants:
        log.info("routing loop: %s", variant.label)
        outcome = run_router(workload, variant.policy, variant.config)
        outcome.policy = variant.label
        rows.append(summarise(outcome, workload, skill_threshold))
    for fallback in simulator_policies:
        log.info("routing loop: simulator %s", fallback)
        rows.append(summarise(run_simulator(workload, fallback), workload, skill_threshold))
    return rows


def describe(workload: Workload, skill_threshold: float) -> str:
    """The results' notes: the workload and what each column means."""
    targets = ", ".join(f"{p.value} {policy.first_reply_minutes} min" for p, policy in SLA_POLICIES.items())
    return (
        f"Workload: the simulated centre (seed {workload.seed}, {workload.agents} agents, "
        f"{workload.customers} customers, {workload.tickets_per_day:.0f} tickets on an average day "
        "before the fitted weekday factors, day-to-day noise and incident bursts, which the seed fixes) "
        "measured over "
        f"{workload.days} days from {workload.start:%a %Y-%m-%d} (tickets created in that window), run "
        f"{workload.drain_hours:.0f} h further so they can be answered. Shifts cover about 05:00-21:00 UTC, "
        "so evening and night tickets wait for the morning under every policy: that dominates the means "
        "and p90s; the differences between rows come from peak queues and the morning backlog. Every "
        "row faces the same tickets (times, categories, priorities, channels, customers). "
        f"Router rows: every {workload.interval_seconds:g} simulated s with something new, the waiting "
        "tickets and the floor go to stream_processors.routing.route; what it leaves waiting "
        f"{workload.route_timeout_seconds / 3600:g} h falls back to the simulator's least-loaded dispatch "
        "(timeout_fallback). The categorizer does not run: the router gets the true category with "
        f"probability {workload.category_accuracy:g} (confidence U(0.6, 1)), else a random other one "
        "(confidence U(0.2, 0.7)). simulator:* rows: the simulator's own dispatch, no router, no "
        "micro-batch delay. "
        "mean/p90_wait_min: creation to first assignment (unassigned: never assigned by the run's end). "
        f"sla_attainment: first public reply within the first-reply target of the priority ({targets}, "
        "cxa.metrics.SLA_POLICIES, calendar clock); unanswered past the target counts as a breach. "
        f"skill_match: assignments (transfers included) whose agent has proficiency >= {skill_threshold:g} "
        "in the ticket's true (confirmed or corrected) category. occupancy: per agent, the time integral "
        "of min(tickets in hand, capacity)/capacity over online time (agents online >= 1 h); mean, "
        "population std and p90-p10 over agents. csat_positive: ratings 4-5 over all ratings. "
        "router_assigned / timeout_fallback: assignments of the window's tickets by the router and by the "
        "simulator's fallback; rejected: decisions the simulator could no longer apply; batches: route() "
        "calls, optimizer_batches / greedy_fallback_batches: those the PuLP/CBC model decided or greedy "
        "decided after the model failed its budget; batch_p95_ms: route() time per call. "
        "See bench/routing_loop.py and bench/routing_quality.py."
    )
