"""Invariants of every routing policy on generated floors."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cxa.events import AgentStatus, Channel, Priority
from stream_processors.routing import (
    AgentState,
    Policy,
    RoutingConfig,
    WaitingTicket,
    batch_capacities,
    is_eligible,
    route,
)

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
CATEGORIES = ("billing", "shipping", "returns")
LANGUAGES = ("en", "de")
minutes = st.floats(min_value=-120, max_value=600, allow_nan=False)


@st.composite
def tickets(draw: st.DrawFn) -> list[WaitingTicket]:
    count = draw(st.integers(0, 25))
    waiting = []
    for t in range(count):
        category = draw(st.one_of(st.none(), st.sampled_from(CATEGORIES)))
        waited = draw(st.floats(min_value=0, max_value=120))
        waiting.append(
            WaitingTicket(
                ticket_id=f"t{t}",
                category=category,
                category_confidence=draw(st.floats(0.0, 1.0)) if category else 0.0,
                priority=draw(st.sampled_from(list(Priority))),
                language=draw(st.sampled_from(LANGUAGES)),
                created_at=NOW - timedelta(minutes=waited),
                sla_due_at=NOW + timedelta(minutes=draw(minutes)),
                channel=Channel.CHAT,
            )
        )
    return waiting


@st.composite
def agents(draw: st.DrawFn) -> list[AgentState]:
    count = draw(st.integers(0, 8))
    floor = []
    for a in range(count):
        capacity = draw(st.integers(0, 4))
        floor.append(
            AgentState(
                agent_id=f"a{a}",
                status=draw(st.sampled_from(list(AgentStatus))),
                skills=draw(st.dictionaries(st.sampled_from(CATEGORIES), st.floats(0.0, 1.0), max_size=3)),
                languages=frozenset(draw(st.sets(st.sampled_from(LANGUAGES), min_size=1))),
                capacity=capacity,
                load=draw(st.integers(0, capacity)),
                occupancy=draw(st.floats(0.0, 1.0)),
            )
        )
    return floor


configs = st.builds(
    RoutingConfig,
    min_skill=st.floats(0.0, 0.8),
    fairness_factor=st.floats(1.0, 3.0),
    max_utilisation=st.floats(0.3, 1.0),
)


@settings(max_examples=60, deadline=None)
@given(waiting=tickets(), floor=agents(), config=configs, policy=st.sampled_from(list(Policy)))
def test_capacity_single_assignment_and_eligibility_hold(waiting, floor, config, policy):
    decisions = route(waiting, floor, NOW, policy, config)
    by_ticket = {t.ticket_id: t for t in waiting}
    by_agent = {a.agent_id: a for a in floor}

    assert len({d.ticket_id for d in decisions}) == len(decisions)

    naive = policy in (Policy.ROUND_ROBIN, Policy.LEAST_LOADED)
    allowed = dict(
        zip(
            by_agent,
            batch_capacities(floor, len(waiting), config, fairness=not naive),
            strict=True,
        )
    )
    for agent_id, received in Counter(d.agent_id for d in decisions).items():
        assert received <= allowed[agent_id] <= by_agent[agent_id].free_capacity

    for decision in decisions:
        assert is_eligible(
            by_ticket[decision.ticket_id], by_agent[decision.agent_id], config, use_skills=not naive
        )
        assert decision.score == decision.parts.total


@settings(max_examples=30, deadline=None)
@given(waiting=tickets(), floor=agents())
def test_optimizer_never_scores_below_greedy_and_assigns_whenever_greedy_can(waiting, floor):
    config = RoutingConfig(time_budget_ms=10_000)
    optimal = route(waiting, floor, NOW, Policy.OPTIMIZER, config)
    greedy = route(waiting, floor, NOW, Policy.GREEDY, config)
    assert sum(d.score for d in optimal) >= sum(d.score for d in greedy) - 1e-6
    assert bool(optimal) == bool(greedy)
    assert {d.policy for d in optimal} <= {Policy.OPTIMIZER}
