"""``route``: decide one micro-batch of waiting tickets under a policy, with reasons."""

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from stream_processors.routing.assignment import assign_optimal
from stream_processors.routing.config import RoutingConfig
from stream_processors.routing.microbatch import MicroBatch, Pair, build_batch
from stream_processors.routing.optimizer import solve_milp
from stream_processors.routing.policies import assign_greedy, assign_least_loaded, assign_round_robin
from stream_processors.routing.scoring import effective_category, score_parts
from stream_processors.routing.types import AgentState, Decision, Policy, ScoreParts, WaitingTicket

log = logging.getLogger(__name__)

_BASELINES = (Policy.ROUND_ROBIN, Policy.LEAST_LOADED)


def route(
    tickets: Sequence[WaitingTicket],
    agents: Sequence[AgentState],
    now: datetime,
    policy: Policy = Policy.OPTIMIZER,
    config: RoutingConfig | None = None,
    *,
    turn: int = 0,
) -> list[Decision]:
    """Assign waiting tickets to support agents; tickets without a decision keep waiting.

    ``Policy.OPTIMIZER`` solves the PuLP model and falls back to greedy (labelled
    ``greedy-fallback``, with why) if the model is too big, the solver fails or proves no optimum
    within the time budget. ``round-robin`` and ``least-loaded`` are the naive baselines: they
    respect availability, capacity and language but neither skills nor the fairness cap. ``turn``
    is where the round-robin rotation starts.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    config = config or RoutingConfig()
    started = time.perf_counter()
    naive = policy in _BASELINES
    batch = build_batch(tickets, agents, now, config, use_skills=not naive, fairness=not naive)
    used, detail, pairs = _decide(batch, policy, config, started, turn)
    solver_ms = (time.perf_counter() - started) * 1000
    if used is Policy.GREEDY_FALLBACK:
        log.info("routing fell back to greedy after %.0f ms: %s", solver_ms, detail)
    return [_decision(batch, pair, used, detail, solver_ms, config) for pair in sorted(pairs)]


def _decide(
    batch: MicroBatch, policy: Policy, config: RoutingConfig, started: float, turn: int
) -> tuple[Policy, str, list[Pair]]:
    if policy is Policy.OPTIMIZER:
        greedy = assign_greedy(batch)
        solution = solve_milp(batch, config, started, greedy)
        if solution.pairs is None:
            return Policy.GREEDY_FALLBACK, solution.detail, greedy
        return Policy.OPTIMIZER, solution.detail, solution.pairs
    if policy in (Policy.GREEDY, Policy.GREEDY_FALLBACK):
        return Policy.GREEDY, "most urgent first, best agent with room", assign_greedy(batch)
    if policy is Policy.ASSIGNMENT:
        return Policy.ASSIGNMENT, "exact assignment optimum", assign_optimal(batch)
    if policy is Policy.ROUND_ROBIN:
        return Policy.ROUND_ROBIN, "oldest first, next agent in rotation", assign_round_robin(batch, turn)
    return Policy.LEAST_LOADED, "oldest first, least loaded agent", assign_least_loaded(batch)


def _decision(
    batch: MicroBatch, pair: Pair, used: Policy, detail: str, solver_ms: float, config: RoutingConfig
) -> Decision:
    ticket, agent = batch.tickets[pair[0]], batch.agents[pair[1]]
    parts = score_parts(ticket, agent, batch.now, config)
    return Decision(
        ticket_id=ticket.ticket_id,
        agent_id=agent.agent_id,
        policy=used,
        parts=parts,
        solver_ms=solver_ms,
        reason=f"{detail}; {_explain(ticket, agent, parts, batch.now, config)}",
        decided_at=batch.now,
    )


def _explain(
    ticket: WaitingTicket, agent: AgentState, parts: ScoreParts, now: datetime, config: RoutingConfig
) -> str:
    category = effective_category(ticket, config)
    if category is None:
        skill = f"skill {parts.skill:.2f} (category unknown)"
    else:
        proficiency = agent.skills.get(category, 0.0)
        skill = f"skill {parts.skill:.2f} ({category} {proficiency:.2f} at {ticket.category_confidence:.2f})"
    sla_minutes = (ticket.sla_due_at - now).total_seconds() / 60
    waited_minutes = (now - ticket.created_at).total_seconds() / 60
    return (
        f"{skill}, priority {parts.priority:.2f} ({ticket.priority.value}), "
        f"sla {parts.sla:.2f} ({sla_minutes:.0f} min left), waiting {parts.waiting:.2f} "
        f"({waited_minutes:.0f} min), balance {parts.balance:.2f}"
    )
