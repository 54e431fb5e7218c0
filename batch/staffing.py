"""Agents needed per interval: Erlang C for real-time channels, a workload (backlog) model for the rest.

Real-time channels (chat, phone) queue callers who wait on the line: Erlang C (M/M/N) gives the
probability of waiting, the service level (share answered within the target time), the average
speed of answer and occupancy for N agents; the need is the smallest N that meets the service-level
target without exceeding the maximum occupancy. Deferred channels (email, web, social) can queue
work: the need is what clears the work arriving within the response window, at most at maximum
occupancy. Both are then grossed up for shrinkage (breaks, training, absence).

>>> erlang = erlang_c(traffic=10.0, agents=11)
>>> round(erlang, 4)
0.6821
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

REAL_TIME_CHANNELS = frozenset({"chat", "phone"})


@dataclass(frozen=True)
class Targets:
    service_level: float = 0.8  # share answered within answer_seconds
    answer_seconds: float = 20.0
    max_occupancy: float = 0.85
    shrinkage: float = 0.3
    backlog_hours: float = 4.0  # deferred channels: work done within this many hours


@dataclass(frozen=True)
class IntervalNeed:
    """What one interval needs and what that staffing achieves."""

    arrivals: float
    workload_hours: float  # arrivals x handle time, in agent-hours per interval hour
    agents_on_queue: int  # agents answering (productive), before shrinkage
    agents_scheduled: int  # agents to roster, after shrinkage
    service_level: float | None  # real-time: share answered within the target
    average_wait_seconds: float | None
    occupancy: float
    model: str  # "erlang_c" or "backlog"


def erlang_c(traffic: float, agents: int) -> float:
    """Probability an arrival waits (Erlang C), for ``traffic`` Erlangs offered to ``agents``.

    Computed through the numerically stable Erlang B recursion: B(0) = 1,
    B(n) = A B(n-1) / (n + A B(n-1)); C = N B / (N - A (1 - B)). 1 when agents <= traffic.
    """
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def service_level(traffic: float, agents: int, aht_seconds: float, answer_seconds: float) -> float:
    """Share of arrivals answered within ``answer_seconds``: 1 - C e^{-(N - A) t / AHT}."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(traffic, agents)
    return 1 - waiting * math.exp(-(agents - traffic) * answer_seconds / aht_seconds)


def average_wait(traffic: float, agents: int, aht_seconds: float) -> float:
    """Average speed of answer in seconds: C AHT / (N - A); infinite when agents <= traffic."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(traffic, agents) * aht_seconds / (agents - traffic)


def traffic_erlangs(arrivals: float, aht_seconds: float, interval_seconds: float) -> float:
    """Offered load: arrivals per interval x handle time / interval length."""
    return arrivals * aht_seconds / interval_seconds


def gross_up(agents: int, shrinkage: float) -> int:
    """Agents to roster so that ``agents`` remain after shrinkage."""
    return 0 if agents == 0 else math.ceil(agents / (1 - shrinkage) - 1e-9)


def real_time_need(
    arrivals: float, aht_seconds: float, targets: Targets, interval_seconds: float = 3600
) -> IntervalNeed:
    """Erlang C: fewest agents meeting the service level within the maximum occupancy."""
    traffic = traffic_erlangs(arrivals, aht_seconds, interval_seconds)
    if traffic <= 0:
        return IntervalNeed(arrivals, 0.0, 0, 0, 1.0, 0.0, 0.0, "erlang_c")
    agents = max(1, math.ceil(traffic / targets.max_occupancy - 1e-9))
    while service_level(traffic, agents, aht_seconds, targets.answer_seconds) < targets.service_level:
        agents += 1
    return IntervalNeed(
        arrivals=arrivals,
        workload_hours=traffic,
        agents_on_queue=agents,
        agents_scheduled=gross_up(agents, targets.shrinkage),
        service_level=service_level(traffic, agents, aht_seconds, targets.answer_seconds),
        average_wait_seconds=average_wait(traffic, agents, aht_seconds),
        occupancy=traffic / agents,
        model="erlang_c",
    )


def backlog_needs(
    arrivals: Sequence[float], aht_seconds: float, targets: Targets, interval_seconds: float = 3600
) -> list[IntervalNeed]:
    """Deferred work: per interval, the agents that clear what arrives within the response window.

    Work arriving in interval i may be done in intervals i .. i + w - 1 (w = the window in
    intervals); the need at i is the largest average workload over any window that contains i,
    so the work of every window fits, at maximum occupancy. Returns the need per interval.

    >>> [need.agents_on_queue for need in backlog_needs([12, 0, 0, 0], 600, Targets(backlog_hours=2))]
    [2, 2, 0, 0]
    """
    window = max(1, round(targets.backlog_hours * 3600 / interval_seconds))
    workload = [traffic_erlangs(count, aht_seconds, interval_seconds) for count in arrivals]
    smoothed = [sum(workload[start : start + window]) / window for start in range(len(workload))]
    needs = []
    for index, count in enumerate(arrivals):
        covering = smoothed[max(0, index - window + 1) : index + 1]
        rate = max(covering) if covering else 0.0
        agents = math.ceil(rate / targets.max_occupancy - 1e-9) if rate > 0 else 0
        needs.append(
            IntervalNeed(
                arrivals=count,
                workload_hours=workload[index],
                agents_on_queue=agents,
                agents_scheduled=gross_up(agents, targets.shrinkage),
                service_level=None,
                average_wait_seconds=None,
                occupancy=min(1.0, rate / agents) if agents else 0.0,
                model="backlog",
            )
        )
    return needs


def channel_needs(
    channel: str,
    arrivals: Sequence[float],
    aht_seconds: float,
    targets: Targets,
    interval_seconds: float = 3600,
) -> list[IntervalNeed]:
    """The right model for the channel: Erlang C for chat/phone, the backlog model otherwise."""
    if channel in REAL_TIME_CHANNELS:
        return [real_time_need(count, aht_seconds, targets, interval_seconds) for count in arrivals]
    return backlog_needs(arrivals, aht_seconds, targets, interval_seconds)
