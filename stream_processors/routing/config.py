"""Routing weights, thresholds and budgets, with defaults; the worker builds one from its settings."""

from dataclasses import dataclass, field
from datetime import timedelta

from cxa.events import Priority

DEFAULT_PRIORITY_LEVELS = {
    Priority.LOW: 0.0,
    Priority.NORMAL: 1 / 3,
    Priority.HIGH: 2 / 3,
    Priority.URGENT: 1.0,
}


@dataclass(frozen=True, slots=True)
class RoutingConfig:
    """How the router scores, who is eligible, and how long the optimiser may take.

    Scores: ``skill_weight`` x skill fit (proficiency in the predicted category, blended towards
    ``neutral_skill_fit`` as the categorizer's confidence drops), ``priority_weight`` x priority level,
    ``sla_weight`` x SLA pressure (0 with ``sla_horizon`` or more left, 1 at or past breach),
    ``waiting_weight`` x waiting time over ``wait_horizon`` (capped at 1), ``balance_weight`` x
    (1 - the agent's occupancy today).

    Eligibility: online, free capacity, speaks the ticket's language, proficiency at least
    ``min_skill`` in the predicted category. A category predicted with confidence below
    ``min_category_confidence`` is treated as unknown.

    Fairness: in one batch no agent receives more than ``ceil(fairness_factor x fair share)``
    tickets (fair share: the tickets the floor can take, spread evenly over available agents), nor
    is filled above ``max_utilisation`` of their capacity.

    Optimiser: a PuLP model over each ticket's ``candidates_per_ticket`` best eligible agents (0: all) plus
    the greedy plan's pairs, solved by CBC within ``time_budget_ms`` for the whole decision; more
    than ``max_pairs`` variables, a solver error or no proven optimum in time means greedy decides.
    ``solve_relaxation`` lets CBC solve the (totally unimodular) LP relaxation, checked integral.
    """

    skill_weight: float = 1.0
    priority_weight: float = 1.0
    sla_weight: float = 1.0
    waiting_weight: float = 0.5
    balance_weight: float = 0.2
    priority_levels: dict[Priority, float] = field(default_factory=lambda: dict(DEFAULT_PRIORITY_LEVELS))
    sla_horizon: timedelta = timedelta(hours=2)
    wait_horizon: timedelta = timedelta(minutes=30)
    neutral_skill_fit: float = 0.5
    min_skill: float = 0.3
    min_category_confidence: float = 0.0
    fairness_factor: float = 2.0
    max_utilisation: float = 1.0
    time_budget_ms: float = 200.0
    max_pairs: int = 5_000
    candidates_per_ticket: int = 0
    solve_relaxation: bool = True

    def __post_init__(self) -> None:
        weights = (self.skill_weight, self.priority_weight, self.sla_weight, self.waiting_weight)
        if min(*weights, self.balance_weight) < 0:
            raise ValueError("weights must not be negative")
        if set(self.priority_levels) != set(Priority):
            raise ValueError("priority_levels needs a level for every priority")
        if self.sla_horizon <= timedelta(0) or self.wait_horizon <= timedelta(0):
            raise ValueError("sla_horizon and wait_horizon must be positive")
        for name in ("neutral_skill_fit", "min_skill", "min_category_confidence"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1]")
        if self.fairness_factor < 1.0:
            raise ValueError("fairness_factor must be at least 1")
        if not 0.0 < self.max_utilisation <= 1.0:
            raise ValueError("max_utilisation must be in (0, 1]")
        if self.time_budget_ms < 0 or self.max_pairs < 0 or self.candidates_per_ticket < 0:
            raise ValueError("time_budget_ms, max_pairs and candidates_per_ticket must not be negative")
