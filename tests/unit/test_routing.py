"""The router: eligibility, scoring, policies, the optimiser and its fallback, re-routing."""

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cxa.events import AgentStatus, Channel, Priority
from stream_processors.routing import (
    AgentState,
    Policy,
    RoutingConfig,
    WaitingTicket,
    batch_capacities,
    ineligibility,
    is_eligible,
    route,
    score_parts,
)
from stream_processors.routing.assignment import assign_optimal
from stream_processors.routing.microbatch import build_batch

NOW = datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
UNHURRIED = RoutingConfig(time_budget_ms=60_000)
"""Tests of what the optimum is must not depend on how busy the machine is (the default is 200 ms)."""
CATEGORIES = ("billing", "shipping", "returns", "technical")


def ticket(
    ticket_id: str = "t1",
    category: str | None = "billing",
    confidence: float = 0.9,
    priority: Priority = Priority.NORMAL,
    language: str = "en",
    waited: timedelta = timedelta(minutes=5),
    sla_left: timedelta = timedelta(hours=4),
) -> WaitingTicket:
    return WaitingTicket(
        ticket_id=ticket_id,
        category=category,
        category_confidence=confidence if category else 0.0,
        priority=priority,
        language=language,
        created_at=NOW - waited,
        sla_due_at=NOW + sla_left,
        channel=Channel.EMAIL,
    )


def agent(
    agent_id: str = "a1",
    status: AgentStatus = AgentStatus.ONLINE,
    skills: dict[str, float] | None = None,
    languages: tuple[str, ...] = ("en",),
    capacity: int = 3,
    load: int = 0,
    occupancy: float = 0.5,
) -> AgentState:
    return AgentState(
        agent_id=agent_id,
        status=status,
        skills={"billing": 0.8} if skills is None else skills,
        languages=frozenset(languages),
        capacity=capacity,
        load=load,
        occupancy=occupancy,
    )


def random_floor(seed: int, tickets: int, agents: int) -> tuple[list[WaitingTicket], list[AgentState]]:
    rng = random.Random(seed)
    floor = [
        agent(
            f"a{a:03d}",
            status=rng.choice([AgentStatus.ONLINE] * 4 + [AgentStatus.AWAY, AgentStatus.OFFLINE]),
            skills={c: round(rng.uniform(0.1, 1.0), 2) for c in rng.sample(CATEGORIES, 2)},
            languages=("en",) if rng.random() < 0.8 else ("en", "de"),
            capacity=(capacity := rng.randint(1, 4)),
            load=rng.randint(0, capacity),
            occupancy=round(rng.uniform(0, 1), 2),
        )
        for a in range(agents)
    ]
    waiting = [
        ticket(
            f"t{t:03d}",
            category=None if rng.random() < 0.1 else rng.choice(CATEGORIES),
            confidence=round(rng.uniform(0.3, 1.0), 2),
            priority=rng.choice(list(Priority)),
            language="en" if rng.random() < 0.8 else "de",
            waited=timedelta(minutes=rng.uniform(0, 60)),
            sla_left=timedelta(minutes=rng.uniform(-30, 300)),
        )
        for t in range(tickets)
    ]
    return waiting, floor


def total(decisions: list) -> float:
    return sum(decision.score for decision in decisions)


# Eligibility


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (agent(status=AgentStatus.AWAY), "agent is away"),
        (agent(status=AgentStatus.OFFLINE), "agent is offline"),
        (agent(capacity=2, load=2), "agent is at capacity"),
        (agent(languages=("de",)), "agent does not speak en"),
        (agent(skills={"billing": 0.1}), "billing proficiency 0.10 below 0.30"),
        (agent(skills={"shipping": 1.0}), "billing proficiency 0.00 below 0.30"),
    ],
)
def test_ineligible_agents_say_why(candidate, reason):
    assert ineligibility(ticket(), candidate, RoutingConfig()) == reason
    assert not is_eligible(ticket(), candidate, RoutingConfig())


def test_skilled_online_agent_with_room_and_language_is_eligible():
    assert is_eligible(ticket(), agent(skills={"billing": 0.3}), RoutingConfig())
    assert not is_eligible(ticket(), agent(skills={"billing": 0.3}), RoutingConfig(min_skill=0.5))


def test_unknown_category_makes_any_agent_with_the_language_eligible_with_neutral_fit():
    unknown = ticket(category=None)
    novice = agent(skills={})
    config = RoutingConfig(neutral_skill_fit=0.5, skill_weight=2.0)
    assert is_eligible(unknown, novice, config)
    assert score_parts(unknown, novice, NOW, config).skill == pytest.approx(1.0)
    assert not is_eligible(unknown, agent(skills={}, languages=("fr",)), config)


def test_unsure_category_is_treated_as_unknown_below_the_confidence_threshold():
    unsure = ticket(confidence=0.2)
    novice = agent(skills={})
    assert not is_eligible(unsure, novice, RoutingConfig())
    assert is_eligible(unsure, novice, RoutingConfig(min_category_confidence=0.5))


# Scoring


def test_score_parts_add_up_and_follow_the_inputs():
    config = RoutingConfig()
    parts = score_parts(
        ticket(
            priority=Priority.URGENT,
            confidence=0.5,
            waited=timedelta(minutes=15),
            sla_left=timedelta(hours=1),
        ),
        agent(skills={"billing": 0.9}, occupancy=0.25),
        NOW,
        config,
    )
    assert parts.skill == pytest.approx(0.5 * 0.9 + 0.5 * 0.5)
    assert parts.priority == pytest.approx(1.0)
    assert parts.sla == pytest.approx(0.5)
    assert parts.waiting == pytest.approx(0.25)
    assert parts.balance == pytest.approx(0.15)
    assert parts.total == pytest.approx(
        sum((parts.skill, parts.priority, parts.sla, parts.waiting, parts.balance))
    )


def test_breached_sla_and_long_wait_saturate_at_their_weights():
    parts = score_parts(
        ticket(waited=timedelta(hours=5), sla_left=-timedelta(hours=1)), agent(), NOW, RoutingConfig()
    )
    assert parts.sla == pytest.approx(1.0)
    assert parts.waiting == pytest.approx(0.5)


@pytest.mark.parametrize("policy", list(Policy))
def test_every_decision_carries_its_parts_reason_and_time(policy):
    waiting, floor = random_floor(1, 30, 10)
    decisions = route(waiting, floor, NOW, policy, UNHURRIED)
    assert decisions
    for decision in decisions:
        parts = decision.parts
        assert decision.score == parts.skill + parts.priority + parts.sla + parts.waiting + parts.balance
        assert decision.reason
        assert decision.solver_ms > 0
        assert decision.decided_at == NOW


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        route([ticket()], [agent()], datetime(2025, 3, 3, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        WaitingTicket("t", None, 0.0, Priority.LOW, "en", datetime(2025, 1, 1), NOW, Channel.WEB)  # noqa: DTZ001


# Capacity, fairness and urgency


def test_fairness_cap_spreads_a_batch_over_agents():
    config = RoutingConfig(fairness_factor=1.0, time_budget_ms=60_000)
    floor = [agent(f"a{i}", skills={"billing": 1.0 if i == 0 else 0.5}, capacity=10) for i in range(4)]
    waiting = [ticket(f"t{i}") for i in range(8)]
    assert batch_capacities(floor, len(waiting), config) == [2, 2, 2, 2]
    decisions = route(waiting, floor, NOW, Policy.OPTIMIZER, config)
    assert Counter(decision.agent_id for decision in decisions) == {"a0": 2, "a1": 2, "a2": 2, "a3": 2}


def test_utilisation_cap_keeps_headroom():
    config = RoutingConfig(max_utilisation=0.5, fairness_factor=100)
    assert batch_capacities([agent(capacity=4, load=1), agent(capacity=4, load=2)], 10, config) == [1, 0]


def test_urgent_tickets_win_when_capacity_is_short():
    waiting = [ticket(f"low{i}", priority=Priority.LOW, waited=timedelta(minutes=40)) for i in range(3)]
    waiting += [
        ticket(
            "urgent", priority=Priority.URGENT, waited=timedelta(minutes=1), sla_left=timedelta(minutes=20)
        ),
        ticket("high", priority=Priority.HIGH, sla_left=timedelta(minutes=50)),
    ]
    floor = [agent("a1", capacity=1), agent("a2", capacity=1, skills={"billing": 0.4})]
    for policy in (Policy.OPTIMIZER, Policy.GREEDY, Policy.ASSIGNMENT):
        decisions = route(waiting, floor, NOW, policy, UNHURRIED)
        assert {decision.ticket_id for decision in decisions} == {"urgent", "high"}, policy


def test_optimizer_beats_greedy_where_greedy_is_myopic():
    # Greedy gives the urgent ticket the only expert; the optimum sends it to the generalist.
    waiting = [
        ticket("urgent", priority=Priority.URGENT),
        ticket("billing", priority=Priority.NORMAL, language="de"),
    ]
    floor = [
        agent("expert", skills={"billing": 1.0}, languages=("en", "de"), capacity=1),
        agent("generalist", skills={"billing": 0.9}, languages=("en",), capacity=1),
    ]
    greedy = route(waiting, floor, NOW, Policy.GREEDY)
    optimal = route(waiting, floor, NOW, Policy.OPTIMIZER, UNHURRIED)
    assert len(greedy) == 1
    assert {(d.ticket_id, d.agent_id) for d in optimal} == {("urgent", "generalist"), ("billing", "expert")}
    assert optimal[0].policy is Policy.OPTIMIZER
    assert total(optimal) > total(greedy)


@pytest.mark.parametrize("relaxation", [True, False], ids=["lp-relaxation", "milp"])
@pytest.mark.parametrize("seed", range(6))
def test_optimizer_matches_the_exact_optimum_and_beats_or_equals_greedy(seed, relaxation):
    waiting, floor = random_floor(seed, 60, 20)
    config = RoutingConfig(time_budget_ms=5_000, solve_relaxation=relaxation)
    optimal = route(waiting, floor, NOW, Policy.OPTIMIZER, config)
    assert optimal
    assert all(decision.policy is Policy.OPTIMIZER for decision in optimal)
    assert ("LP relaxation" in optimal[0].reason) is relaxation
    exact = assign_optimal(build_batch(waiting, floor, NOW, config))
    exact_total = sum(score_parts(waiting[t], floor[a], NOW, config).total for t, a in exact)
    assert total(optimal) == pytest.approx(exact_total)
    assert total(optimal) >= total(route(waiting, floor, NOW, Policy.GREEDY, config)) - 1e-9


def test_pruned_optimizer_still_beats_or_equals_greedy():
    config = RoutingConfig(candidates_per_ticket=1, time_budget_ms=5_000)
    for seed in range(5):
        waiting, floor = random_floor(seed, 60, 20)
        pruned = route(waiting, floor, NOW, Policy.OPTIMIZER, config)
        assert pruned[0].policy is Policy.OPTIMIZER
        assert total(pruned) >= total(route(waiting, floor, NOW, Policy.GREEDY, config)) - 1e-9


# Fallback


def test_fallback_when_the_model_is_too_big():
    waiting, floor = random_floor(3, 40, 10)
    decisions = route(waiting, floor, NOW, Policy.OPTIMIZER, RoutingConfig(max_pairs=5))
    greedy = route(waiting, floor, NOW, Policy.GREEDY, RoutingConfig(max_pairs=5))
    assert decisions
    assert {decision.policy for decision in decisions} == {Policy.GREEDY_FALLBACK}
    assert "model too big" in decisions[0].reason
    assert [(d.ticket_id, d.agent_id) for d in decisions] == [(d.ticket_id, d.agent_id) for d in greedy]


def test_fallback_when_the_time_budget_is_spent():
    waiting, floor = random_floor(4, 40, 10)
    decisions = route(waiting, floor, NOW, Policy.OPTIMIZER, RoutingConfig(time_budget_ms=0))
    assert decisions
    assert {decision.policy for decision in decisions} == {Policy.GREEDY_FALLBACK}
    assert "time budget" in decisions[0].reason


def test_fallback_when_the_solver_fails(monkeypatch):
    import pulp

    def broken(self, solver=None, **kwargs):
        raise pulp.PulpSolverError("cbc exploded")

    monkeypatch.setattr(pulp.LpProblem, "solve", broken)
    decisions = route(*random_floor(5, 20, 8), NOW, Policy.OPTIMIZER)
    assert decisions
    assert {decision.policy for decision in decisions} == {Policy.GREEDY_FALLBACK}
    assert "cbc exploded" in decisions[0].reason


# Baselines


def test_round_robin_rotates_through_agents_by_id():
    floor = [agent(f"a{i}", skills={}, capacity=5) for i in (3, 1, 2)]
    waiting = [ticket(f"t{i}", waited=timedelta(minutes=10 - i)) for i in range(5)]
    decisions = route(waiting, floor, NOW, Policy.ROUND_ROBIN)
    assert [(d.ticket_id, d.agent_id) for d in decisions] == [
        ("t0", "a1"),
        ("t1", "a2"),
        ("t2", "a3"),
        ("t3", "a1"),
        ("t4", "a2"),
    ]
    shifted = route(waiting, floor, NOW, Policy.ROUND_ROBIN, turn=1)
    assert shifted[0].agent_id == "a2"
    assert {d.policy for d in decisions} == {Policy.ROUND_ROBIN}


def test_least_loaded_picks_the_emptiest_agent_each_time():
    floor = [agent("busy", capacity=4, load=3), agent("half", capacity=4, load=2), agent("idle", capacity=2)]
    waiting = [ticket(f"t{i}", waited=timedelta(minutes=10 - i)) for i in range(3)]
    decisions = route(waiting, floor, NOW, Policy.LEAST_LOADED)
    assert [d.agent_id for d in decisions] == ["idle", "half", "idle"]


def test_baselines_ignore_skills_but_not_language_or_availability():
    waiting = [ticket(category="billing")]
    assert route(waiting, [agent(skills={})], NOW, Policy.ROUND_ROBIN)
    assert not route(waiting, [agent(skills={})], NOW, Policy.GREEDY)
    assert not route(waiting, [agent(languages=("de",))], NOW, Policy.LEAST_LOADED)
    assert not route(waiting, [agent(status=AgentStatus.OFFLINE)], NOW, Policy.ROUND_ROBIN)


def test_nothing_to_route():
    assert route([], [agent()], NOW) == []
    assert route([ticket()], [], NOW) == []


# Re-routing


def test_fair_cap_is_at_least_one_and_scales_with_the_batch():
    floor = [agent(f"a{i}", capacity=10) for i in range(4)]
    assert batch_capacities(floor, 1, RoutingConfig()) == [1, 1, 1, 1]
    assert batch_capacities(floor, 8, RoutingConfig(fairness_factor=1.5)) == [math.ceil(1.5 * 2)] * 4


@pytest.mark.parametrize("policy", list(Policy))
def test_an_agent_takes_as_many_tickets_as_it_has_room_for(policy):
    config = RoutingConfig(fairness_factor=100, time_budget_ms=60_000)
    floor = [agent("a1", capacity=4, load=1), agent("a2", capacity=1, load=1)]  # room 3 and 0
    decisions = route([ticket(f"t{i}") for i in range(5)], floor, NOW, policy, config)
    assert Counter(decision.agent_id for decision in decisions) == {"a1": 3}


def test_the_reason_names_the_category_skill_sla_and_wait():
    waiting = [ticket(confidence=0.75, waited=timedelta(minutes=12), sla_left=timedelta(minutes=90))]
    (decision,) = route(waiting, [agent(skills={"billing": 0.8, "cards": 0.1})], NOW, Policy.GREEDY)
    assert "billing 0.80 at 0.75" in decision.reason
    assert "(90 min left)" in decision.reason
    assert "(12 min)" in decision.reason
    (unknown,) = route([ticket(category=None)], [agent()], NOW, Policy.GREEDY)
    assert "category unknown" in unknown.reason
