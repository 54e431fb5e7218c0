"""cxa.metrics: SLA clocks with pauses and business hours, breaches, per-ticket metrics, rates."""

import csv
import doctest
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cxa import metrics
from cxa.events import (
    AgentReplied,
    CsatSubmitted,
    Priority,
    TicketAssigned,
    TicketCreated,
    TicketReopened,
    TicketStatus,
    TicketStatusChanged,
)
from cxa.metrics import SLA_POLICIES, due_at, is_breached, ticket_metrics

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 1, 5, tzinfo=UTC)


def at(hours: float, day: datetime = MONDAY) -> datetime:
    return day + timedelta(hours=hours)


def created(when: datetime, priority: Priority = Priority.URGENT, ticket_id: str = "T1") -> TicketCreated:
    return TicketCreated(
        ticket_id=ticket_id, occurred_at=when, customer_id="C1", channel="email", priority=priority,
        subject="s", body="b",
    )  # fmt: skip


def status(when: datetime, value: TicketStatus, ticket_id: str = "T1") -> TicketStatusChanged:
    return TicketStatusChanged(ticket_id=ticket_id, occurred_at=when, status=value)


def test_doctests_pass() -> None:
    assert doctest.testmod(metrics).failed == 0


def test_the_dbt_seed_holds_the_same_sla_policies() -> None:
    with (ROOT / "dbt" / "seeds" / "sla_policies.csv").open() as handle:
        seeded = {row["priority"]: row for row in csv.DictReader(handle)}
    assert set(seeded) == {priority.value for priority in SLA_POLICIES}
    for priority, policy in SLA_POLICIES.items():
        assert int(seeded[priority.value]["first_reply_minutes"]) == policy.first_reply_minutes
        assert int(seeded[priority.value]["resolution_minutes"]) == policy.resolution_minutes


def test_calendar_clock_pauses_while_pending() -> None:
    events = [
        created(at(10)),
        status(at(10 + 10 / 60), TicketStatus.PENDING),
        status(at(12), TicketStatus.OPEN),
        AgentReplied(ticket_id="T1", occurred_at=at(12.5), agent_id="A1"),
    ]
    result = ticket_metrics(events, as_of=at(48))
    # 10 running minutes before the pause, 20 more after 12:00: due 12:20, reply at 12:30 is late.
    assert result.first_reply_due_at == at(12 + 20 / 60)
    assert result.is_first_reply_breached
    assert result.first_reply_minutes == pytest.approx(150)


def test_business_clock_skips_nights_and_weekends() -> None:
    friday = MONDAY + timedelta(days=4)
    result = ticket_metrics([created(at(16.75, friday), Priority.LOW)], as_of=at(0, friday))
    # low: 480 minutes. Friday 16:45-17:00 counts 15; Monday 09:00 + 465 minutes = 16:45.
    assert result.first_reply_due_business_at == at(16.75, MONDAY + timedelta(days=7))
    assert result.first_reply_due_at == at(16.75 + 8, friday)
    assert not result.is_first_reply_breached  # as_of is before the due time


def test_a_ticket_paused_for_good_has_no_due_time_and_no_breach() -> None:
    events = [created(at(10)), status(at(10.1), TicketStatus.ON_HOLD)]
    result = ticket_metrics(events, as_of=at(24 * 90))
    assert result.first_reply_due_at is None
    assert not result.is_first_reply_breached


def test_first_and_full_resolution_with_reopen_and_close() -> None:
    events = [
        created(at(9)),
        TicketAssigned(ticket_id="T1", occurred_at=at(9.1), agent_id="A1"),
        TicketAssigned(ticket_id="T1", occurred_at=at(9.2), agent_id="A2"),
        status(at(10), TicketStatus.SOLVED),
        TicketReopened(ticket_id="T1", occurred_at=at(11)),
        status(at(12), TicketStatus.SOLVED),
        status(at(13), TicketStatus.CLOSED),
        CsatSubmitted(ticket_id="T1", occurred_at=at(12.5), rating=2),
        CsatSubmitted(ticket_id="T1", occurred_at=at(12.6), rating=5),
    ]
    result = ticket_metrics(events, as_of=at(48))
    assert result.first_resolved_at == at(10)
    assert result.full_resolved_at == at(12)  # solved -> closed is not a second solve
    assert result.status == TicketStatus.CLOSED
    assert (result.reopen_count, result.transfer_count, result.csat_rating) == (1, 1, 5)
    assert not result.is_resolution_breached


def test_reopened_ticket_has_no_full_resolution_until_solved_again() -> None:
    events = [
        created(at(9)),
        status(at(10), TicketStatus.SOLVED),
        TicketReopened(ticket_id="T1", occurred_at=at(11)),
    ]
    result = ticket_metrics(events, as_of=at(12))
    assert result.first_resolved_at == at(10)
    assert result.full_resolved_at is None


def test_breach_rules() -> None:
    due = at(1)
    assert is_breached(due, at(2), as_of=at(0))  # came late
    assert not is_breached(due, at(0.5), as_of=at(5))  # came in time
    assert is_breached(due, None, as_of=at(2))  # not yet, and past due
    assert not is_breached(due, None, as_of=at(0.5))
    assert not is_breached(None, None, as_of=at(100))


def test_due_at_crosses_several_windows() -> None:
    windows = [(at(0), at(1)), (at(2), at(3))]
    assert due_at(90, windows) == at(2.5)
    assert due_at(120, windows) == at(3)
    assert due_at(121, windows) is None


def test_rates() -> None:
    assert metrics.csat_score([5, 4, 3, 1]) == 0.5
    assert metrics.csat_score([]) is None
    solved = ticket_metrics([created(at(0)), status(at(1), TicketStatus.SOLVED)], as_of=at(2))
    reopened = ticket_metrics(
        [created(at(0), ticket_id="T2"), status(at(1), TicketStatus.SOLVED, "T2"),
         TicketReopened(ticket_id="T2", occurred_at=at(1.5))],
        as_of=at(2),
    )  # fmt: skip
    unsolved = ticket_metrics([created(at(0), ticket_id="T3")], as_of=at(2))
    assert metrics.reopen_rate([solved, reopened, unsolved]) == 0.5
    assert metrics.service_level([solved, reopened, unsolved]) == 0.0  # urgent: 30 minutes, never replied
    timelines = [metrics.status_timeline(events) for events in (
        [created(at(0)), status(at(1), TicketStatus.SOLVED)],
        [created(at(0), ticket_id="T2"), status(at(1), TicketStatus.PENDING, "T2")],
    )]  # fmt: skip
    assert metrics.backlog(timelines, at(0.5)) == 2
    assert metrics.backlog(timelines, at(2)) == 1
