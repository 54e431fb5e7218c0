"""Erlang C against the textbook example, the backlog model, the shift plan and the staffing command."""

import doctest
import json
import math

import pytest
from typer.testing import CliRunner

from batch import staffing
from batch.shift_plan import HOURS_PER_WEEK, on_shift, plan_shifts
from batch.staffing import Targets, backlog_needs, erlang_c, real_time_need, service_level
from cxa.cli import app


def test_doctests_pass() -> None:
    assert doctest.testmod(staffing).failed == 0


def test_erlang_c_matches_the_textbook_example() -> None:
    # 100 calls per 30 minutes, 180 s handle time: 10 Erlangs. With 11 agents a caller waits with
    # probability 68.21%, waits 122.8 s on average, and 39.0% are answered within 20 s.
    assert erlang_c(10, 11) == pytest.approx(0.6821, abs=5e-5)
    assert staffing.average_wait(10, 11, 180) == pytest.approx(122.8, abs=0.05)
    assert service_level(10, 11, 180, 20) == pytest.approx(0.3896, abs=5e-4)
    # 80% within 20 s needs 14 agents (88.8%, answer in 7.8 s on average); 13 give 79.6%.
    need = real_time_need(
        arrivals=200, aht_seconds=180, targets=Targets(0.8, 20, 1.0, 0.0), interval_seconds=3600
    )
    assert need.agents_on_queue == 14
    assert need.service_level == pytest.approx(0.8884, abs=5e-4)
    assert need.average_wait_seconds == pytest.approx(7.8, abs=0.05)
    assert service_level(10, 13, 180, 20) == pytest.approx(0.7956, abs=5e-4)


def test_erlang_c_edges() -> None:
    assert erlang_c(0, 3) == 0
    assert erlang_c(5, 5) == 1
    assert math.isinf(staffing.average_wait(5, 4, 180))
    levels = [service_level(10, agents, 180, 20) for agents in range(11, 20)]
    assert levels == sorted(levels)


def test_max_occupancy_and_shrinkage_raise_the_need() -> None:
    loose = real_time_need(600, 180, Targets(0.5, 60, 1.0, 0.0))
    capped = real_time_need(600, 180, Targets(0.5, 60, 0.8, 0.0))
    assert capped.occupancy <= 0.8 < loose.occupancy
    shrunk = real_time_need(600, 180, Targets(0.5, 60, 0.8, 0.3))
    assert shrunk.agents_scheduled == math.ceil(capped.agents_on_queue / 0.7)


def test_backlog_model_clears_each_window_of_work() -> None:
    arrivals = [0, 30, 60, 10, 0, 0, 5, 40]
    targets = Targets(max_occupancy=0.8, shrinkage=0.0, backlog_hours=2)
    needs = backlog_needs(arrivals, 600, targets)
    for start in range(len(arrivals) - 1):
        work_hours = sum(arrivals[start : start + 2]) * 600 / 3600
        capacity = sum(need.agents_on_queue for need in needs[start : start + 2]) * 0.8
        assert capacity >= work_hours - 1e-9
    assert all(need.service_level is None and need.model == "backlog" for need in needs)


def test_shift_plan_covers_the_need_at_least_cost() -> None:
    need = [2] * HOURS_PER_WEEK
    plan = plan_shifts(need, shift_hours=8, cost_per_hour=10, time_limit_seconds=10)
    assert plan.status == "Optimal"
    assert plan.covers(need)
    assert sum(plan.starts) == 2 * HOURS_PER_WEEK // 8  # exactly tiled, no slack
    assert plan.cost == sum(plan.starts) * 8 * 10
    peaky = [1 + (4 if 9 <= hour % 24 < 17 and hour < 120 else 0) for hour in range(HOURS_PER_WEEK)]
    plan = plan_shifts(peaky, shift_hours=8, time_limit_seconds=10)
    assert plan.covers(peaky)
    assert plan.on_shift == on_shift(plan.starts, 8)
    assert sum(plan.starts) * 8 < sum(max(peaky) for _ in range(HOURS_PER_WEEK))


def test_shift_plan_rejects_a_wrong_length() -> None:
    with pytest.raises(ValueError, match="168"):
        plan_shifts([1, 2, 3])


def test_staffing_command_answers_the_planners_question() -> None:
    result = CliRunner().invoke(
        app,
        ["batch", "staffing", "--arrivals", "200,100", "--aht", "180", "--target", "0.8",
         "--answer-seconds", "20", "--max-occupancy", "1", "--shrinkage", "0", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert [row["agents_on_queue"] for row in answer] == [14, 8]
    assert answer[0]["service_level"] >= 0.8
    assert answer[0]["average_wait_seconds"] > 0
    assert answer[0]["occupancy"] == pytest.approx(10 / 14)
    table = CliRunner().invoke(
        app, ["batch", "staffing", "--arrivals", "120", "--aht", "300", "--channel", "email"]
    )
    assert table.exit_code == 0, table.output
    assert "occupancy" in table.output


def test_erlang_c_small_cases_by_the_closed_form() -> None:
    # One agent: the probability of waiting is the utilisation. Two agents at one Erlang:
    # (A^N / N! x N / (N - A)) / (sum_{k<N} A^k / k! + that) = 1 / (2 + 1) = 1/3.
    assert erlang_c(0.5, 1) == pytest.approx(0.5)
    assert erlang_c(1, 2) == pytest.approx(1 / 3)
    assert staffing.average_wait(1, 2, 180) == pytest.approx(60.0)  # C x AHT / (N - A)
    assert service_level(1, 2, 180, 180) == pytest.approx(1 - math.exp(-1) / 3)


def test_no_traffic_needs_nobody_and_waits_for_nothing() -> None:
    assert service_level(0, 3, 180, 20) == 1.0
    assert staffing.average_wait(0, 3, 180) == 0.0
    assert real_time_need(0, 180, Targets()) == staffing.IntervalNeed(0, 0.0, 0, 0, 1.0, 0.0, 0.0, "erlang_c")
    assert [staffing.gross_up(agents, 0.3) for agents in (0, 1, 7)] == [0, 2, 10]  # 7 / 0.7 is 10


def test_backlog_need_per_interval_is_the_busiest_window_that_contains_it() -> None:
    arrivals = [0, 30, 60, 10, 0, 0, 5, 40]  # 600 s each: count / 6 agent-hours per hour
    two_hours = backlog_needs(arrivals, 600, Targets(max_occupancy=0.8, shrinkage=0.0, backlog_hours=2))
    # Two-hour windows average 2.5, 7.5, 5.83, 0.83, 0, 0.42, 3.75, 3.33 agents; each hour takes
    # the busiest window it is in, at 80% occupancy at most.
    assert [need.agents_on_queue for need in two_hours] == [4, 10, 10, 8, 2, 1, 5, 5]
    assert [need.occupancy for need in two_hours[:2]] == pytest.approx([2.5 / 4, 7.5 / 10])
    one_hour = backlog_needs(arrivals, 600, Targets(max_occupancy=0.8, shrinkage=0.0, backlog_hours=1))
    assert [need.agents_on_queue for need in one_hour] == [0, 7, 13, 3, 0, 0, 2, 9]
    assert one_hour[0].occupancy == 0.0
    half_hours = staffing.channel_needs(
        "email", arrivals, 600, Targets(backlog_hours=1), interval_seconds=1800
    )
    assert half_hours == backlog_needs(arrivals, 600, Targets(backlog_hours=1), interval_seconds=1800)
    chat = staffing.channel_needs("chat", [100], 180, Targets(), interval_seconds=1800)
    assert chat == [real_time_need(100, 180, Targets(), interval_seconds=1800)]
