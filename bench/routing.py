"""Decision time and quality of each routing policy on seeded synthetic batches.

For each size (waiting tickets x support agents) and seed, one floor is drawn: agents with
two to four skills out of eight categories, one or two languages, capacity 2-5 with some load;
tickets with a predicted category (10% abstained), priority, language, age and SLA due time.
Every policy routes the same batch; the time is the whole ``route`` call (scoring, model
building, solving, fallback). Quality is the total score relative to the exact optimum over all
eligible pairs (the assignment method), under the same capacities and fairness cap.
"""

import logging
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cxa.events import AgentStatus, Channel, Priority
from stream_processors.routing import AgentState, Policy, RoutingConfig, WaitingTicket, route

log = logging.getLogger(__name__)

CATEGORIES = ("billing", "shipping", "returns", "technical", "account", "orders", "product", "other")
LANGUAGES = ("en", "en", "en", "de", "fr", "es")
SLA_BY_PRIORITY = {
    Priority.LOW: timedelta(hours=24),
    Priority.NORMAL: timedelta(hours=8),
    Priority.HIGH: timedelta(hours=4),
    Priority.URGENT: timedelta(hours=1),
}
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
POLICIES = (Policy.OPTIMIZER, Policy.GREEDY, Policy.ASSIGNMENT, Policy.LEAST_LOADED, Policy.ROUND_ROBIN)


def random_floor(seed: int, tickets: int, agents: int) -> tuple[list[WaitingTicket], list[AgentState]]:
    """A seeded batch of waiting tickets and a floor of support agents."""
    rng = random.Random(seed)
    floor = []
    for a in range(agents):
        capacity = rng.randint(2, 5)
        floor.append(
            AgentState(
                agent_id=f"agent-{a:04d}",
                status=rng.choices(list(AgentStatus), weights=(8, 1, 1))[0],
                skills={
                    c: round(rng.uniform(0.2, 1.0), 2) for c in rng.sample(CATEGORIES, rng.randint(2, 4))
                },
                languages=frozenset({"en", rng.choice(LANGUAGES)})
                if rng.random() < 0.9
                else frozenset({"de"}),
                capacity=capacity,
                load=rng.randint(0, capacity - 1),
                handled_today=rng.randint(0, 30),
                occupancy=round(rng.uniform(0.2, 0.9), 2),
            )
        )
    waiting = []
    for t in range(tickets):
        priority = rng.choices(list(Priority), weights=(3, 5, 2, 1))[0]
        created_at = NOW - timedelta(minutes=rng.uniform(0, 90))
        abstained = rng.random() < 0.1
        waiting.append(
            WaitingTicket(
                ticket_id=f"ticket-{t:05d}",
                category=None if abstained else rng.choice(CATEGORIES),
                category_confidence=0.0 if abstained else round(rng.uniform(0.4, 1.0), 2),
                priority=priority,
                language=rng.choice(LANGUAGES),
                created_at=created_at,
                sla_due_at=created_at + SLA_BY_PRIORITY[priority],
                channel=rng.choice(list(Channel)),
            )
        )
    return waiting, floor


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(
    tickets: int,
    agents: int,
    seeds: int,
    config: RoutingConfig,
    policies: tuple[Policy, ...] = POLICIES,
    label: str = "",
) -> list[dict[str, Any]]:
    """Route ``seeds`` seeded batches under each policy; one row per policy (the exact optimum is
    always computed, as the yardstick, but reported only if asked for)."""
    measured = (*policies, Policy.ASSIGNMENT) if Policy.ASSIGNMENT not in policies else policies
    times: dict[Policy, list[float]] = {policy: [] for policy in measured}
    totals: dict[Policy, list[float]] = {policy: [] for policy in measured}
    assigned: dict[Policy, list[int]] = {policy: [] for policy in measured}
    fallbacks = 0
    for seed in range(seeds):
        waiting, floor = random_floor(seed, tickets, agents)
        for policy in measured:
            started = time.perf_counter()
            decisions = route(waiting, floor, NOW, policy, config, turn=seed)
            times[policy].append((time.perf_counter() - started) * 1000)
            totals[policy].append(sum(decision.score for decision in decisions))
            assigned[policy].append(len(decisions))
            if policy is Policy.OPTIMIZER and decisions and decisions[0].policy is Policy.GREEDY_FALLBACK:
                fallbacks += 1
    rows = []
    for policy in policies:
        gaps = [
            1.0 - total / optimum if optimum else 0.0
            for total, optimum in zip(totals[policy], totals[Policy.ASSIGNMENT], strict=True)
        ]
        rows.append(
            {
                "size": f"{tickets}x{agents}",
                "policy": policy.value + label,
                "p50_ms": statistics.median(times[policy]),
                "p95_ms": _percentile(times[policy], 0.95),
                "max_ms": max(times[policy]),
                "assigned": statistics.mean(assigned[policy]),
                "optimizer_decided": f"{seeds - fallbacks}/{seeds}" if policy is Policy.OPTIMIZER else "",
                "gap_to_optimum_pct": 100 * statistics.mean(gaps),
                "worst_gap_pct": 100 * max(gaps),
            }
        )
    return rows


def run(
    sizes: list[tuple[int, int]], seeds: int, config: RoutingConfig | None = None
) -> list[dict[str, Any]]:
    """Every policy at every size with ``config``; the optimiser also with CBC's full MILP run
    instead of the LP relaxation (up to 200x100), and at the largest size on a pruned model (each
    ticket's five best agents), which fits the pair limit."""
    config = config or RoutingConfig()
    rows: list[dict[str, Any]] = []
    for tickets, agents in sizes:
        log.info("routing %d tickets x %d agents over %d seeds", tickets, agents, seeds)
        rows += measure(tickets, agents, seeds, config)
        if tickets * agents <= 20_000:
            milp = replace(config, solve_relaxation=False)
            rows += measure(tickets, agents, seeds, milp, (Policy.OPTIMIZER,), " (MILP, no relaxation)")
    tickets, agents = max(sizes)
    pruned = replace(config, candidates_per_ticket=5, max_pairs=max(config.max_pairs, 6 * tickets))
    log.info("pruned optimiser on %d tickets x %d agents", tickets, agents)
    rows += measure(tickets, agents, seeds, pruned, (Policy.OPTIMIZER,), " (top-5 candidates)")
    return rows
