"""The optimiser: a lean PuLP model of one batch, solved by CBC within a time budget.

Variables exist only for eligible pairs, and only for each ticket's ``candidates_per_ticket``
best agents plus the pairs of the greedy plan (so the greedy plan is always feasible and the
optimum is never worse than it). Maximise the total score; each ticket at most once; each agent
at most their batch capacity (free capacity, fairness and utilisation caps). Urgency is part of
every pair's score, so when capacity is short the most urgent tickets are the ones assigned.

Every variable sits in one ticket row and one agent row with coefficient 1 and the right-hand
sides are integers: the constraint matrix is totally unimodular, so the LP relaxation's simplex
optimum is already integral. By default CBC solves just that relaxation (about half the time of
its branch-and-cut start-up); the answer is checked, and solved as a MILP if any value is
fractional. Set ``solve_relaxation=False`` to always run the MILP (needed if a constraint that
couples agents is ever added).
"""

import logging
import time
from dataclasses import dataclass

import pulp

from stream_processors.routing.config import RoutingConfig
from stream_processors.routing.microbatch import MicroBatch, Pair

log = logging.getLogger(__name__)

_INTEGRAL_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Solution:
    """``pairs`` is ``None`` when the optimiser could not decide; ``detail`` says what happened."""

    pairs: list[Pair] | None
    detail: str
    variables: int


def candidate_pairs(batch: MicroBatch, config: RoutingConfig, greedy: list[Pair]) -> list[tuple[Pair, float]]:
    """Each ticket's best eligible agents (all with ``candidates_per_ticket=0``) plus the greedy plan."""
    keep = config.candidates_per_ticket or None
    chosen = {t: a for t, a in greedy}
    candidates: list[tuple[Pair, float]] = []
    for t, choices in enumerate(batch.options):
        best = choices[:keep]
        candidates += [((t, a), score) for score, a in best]
        if t in chosen and all(a != chosen[t] for _, a in best):
            candidates.append(((t, chosen[t]), batch.score((t, chosen[t]))))
    return candidates


def solve_milp(batch: MicroBatch, config: RoutingConfig, started: float, greedy: list[Pair]) -> Solution:
    """Solve the batch's model; ``started`` (a ``time.perf_counter()``) is when the decision began."""
    candidates = candidate_pairs(batch, config, greedy)
    if len(candidates) > config.max_pairs:
        return Solution(
            None, f"model too big ({len(candidates)} pairs > {config.max_pairs})", len(candidates)
        )
    if not candidates:
        return Solution([], "no eligible pair", 0)
    problem = pulp.LpProblem("routing", pulp.LpMaximize)
    variables = [problem.add_variable(f"x{i}", cat=pulp.LpBinary) for i in range(len(candidates))]
    problem.setObjective(
        pulp.LpAffineExpression((x, score) for x, (_, score) in zip(variables, candidates, strict=True))
    )
    per_ticket: dict[int, list[pulp.LpVariable]] = {}
    per_agent: dict[int, list[pulp.LpVariable]] = {}
    for x, ((t, a), _) in zip(variables, candidates, strict=True):
        per_ticket.setdefault(t, []).append(x)
        per_agent.setdefault(a, []).append(x)
    for t, xs in per_ticket.items():
        if len(xs) > 1:
            problem += pulp.LpAffineExpression((x, 1) for x in xs) <= 1, f"ticket{t}"
    for a, xs in per_agent.items():
        if len(xs) > batch.capacities[a]:
            problem += pulp.LpAffineExpression((x, 1) for x in xs) <= batch.capacities[a], f"agent{a}"
    relaxed = config.solve_relaxation
    pairs = _solve(problem, variables, candidates, config, started, relaxed)
    if isinstance(pairs, str) and relaxed and pairs.startswith("fractional"):
        log.warning("routing relaxation was fractional; solving as a MILP")
        relaxed = False
        pairs = _solve(problem, variables, candidates, config, started, relaxed)
    if isinstance(pairs, str):
        return Solution(None, pairs, len(variables))
    how = "LP relaxation, integral" if relaxed else "MILP"
    return Solution(pairs, f"CBC optimal over {len(variables)} pairs ({how})", len(variables))


def _solve(
    problem: pulp.LpProblem,
    variables: list[pulp.LpVariable],
    candidates: list[tuple[Pair, float]],
    config: RoutingConfig,
    started: float,
    relaxed: bool,
) -> list[Pair] | str:
    """The chosen pairs, or why there are none."""
    remaining_ms = config.time_budget_ms - (time.perf_counter() - started) * 1000
    if remaining_ms <= 0:
        return f"time budget of {config.time_budget_ms:.0f} ms spent before solving"
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=round(remaining_ms / 1000, 3), mip=not relaxed)
    try:
        problem.solve(solver)
    except (pulp.PulpError, OSError) as error:
        log.warning("routing solver failed: %s", error)
        return f"solver error: {error}"
    if problem.sol_status != pulp.LpSolutionOptimal:
        status = pulp.LpStatus[problem.status]
        return f"CBC {status}, no proven optimum within {config.time_budget_ms:.0f} ms"
    values = [x.varValue or 0.0 for x in variables]
    if any(_INTEGRAL_TOLERANCE < value < 1 - _INTEGRAL_TOLERANCE for value in values):
        return "fractional solution"
    return [pair for value, (pair, _) in zip(values, candidates, strict=True) if value > 0.5]
