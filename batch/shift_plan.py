"""A shift plan that covers the agents needed per hour of the week at least cost (integer program).

Shifts start on the hour, any hour of the week, and last ``shift_hours``; a shift that runs past
Sunday midnight wraps to Monday. Variables: how many agents start at each hour. Constraint: for
every hour, the agents on shift cover the need. Objective: paid hours x cost.
"""

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pulp

HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class ShiftPlan:
    starts: list[int]  # agents starting a shift at each hour of the week
    on_shift: list[int]  # agents on shift at each hour of the week
    shift_hours: int
    cost: float
    status: str  # the solver's status, e.g. "Optimal"

    @property
    def agents_hours(self) -> int:
        return sum(self.starts) * self.shift_hours

    def covers(self, need: Sequence[int]) -> bool:
        return all(have >= want for have, want in zip(self.on_shift, need, strict=True))


def on_shift(starts: Sequence[int], shift_hours: int) -> list[int]:
    """Agents on shift per hour of the week for the given start counts."""
    return [
        sum(starts[(hour - offset) % HOURS_PER_WEEK] for offset in range(shift_hours))
        for hour in range(HOURS_PER_WEEK)
    ]


def plan_shifts(
    need: Sequence[int], shift_hours: int = 8, cost_per_hour: float = 30.0, time_limit_seconds: int = 30
) -> ShiftPlan:
    """Fewest paid hours (hence least cost) covering ``need`` (168 hourly values, Monday 00:00 first)."""
    if len(need) != HOURS_PER_WEEK:
        raise ValueError(f"need must have {HOURS_PER_WEEK} hourly values, got {len(need)}")
    problem = pulp.LpProblem("shift_plan", pulp.LpMinimize)
    starts = [
        problem.add_variable(f"start_{hour}", lowBound=0, cat="Integer") for hour in range(HOURS_PER_WEEK)
    ]
    problem += pulp.lpSum(starts) * shift_hours * cost_per_hour
    for hour in range(HOURS_PER_WEEK):
        covering = [starts[(hour - offset) % HOURS_PER_WEEK] for offset in range(shift_hours)]
        problem += pulp.lpSum(covering) >= need[hour], f"cover_{hour}"
    with warnings.catch_warnings():
        # The CBC binary bundled with PuLP; PuLP 4 moves it to an extra, with the same solver behind it.
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_seconds)
    problem.solve(solver)
    status = pulp.LpStatus[problem.status]
    counts = [round(variable.value() or 0) for variable in starts]
    return ShiftPlan(
        starts=counts,
        on_shift=on_shift(counts, shift_hours),
        shift_hours=shift_hours,
        cost=sum(counts) * shift_hours * cost_per_hour,
        status=status,
    )
