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
    TicketCategoryConfirmed,
    TicketCategoryCorrected,
    TicketCreated,
    TicketPriorityChanged,
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
        TicketAssigned(ticket_id="T1", occurred_at=at(9.15), agent_id="A1"),  # re-sent: no transfer
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
    assert not is_breached(due, due, as_of=at(5))  # on the dot is in time
    assert not is_breached(due, None, as_of=due)


def test_due_at_crosses_several_windows() -> None:
    windows = [(at(0), at(1)), (at(2), at(3))]
    assert due_at(90, windows) == at(2.5)
    assert due_at(120, windows) == at(3)
    assert due_at(121, windows) is None


def test_rates() -> None:
    assert metrics.csat_score([5, 4, 4, 1]) == 0.75
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
    assert metrics.backlog(timelines, at(0)) == 2  # created at that moment counts
    assert metrics.backlog(timelines, at(0.5)) == 2
    assert metrics.backlog(timelines, at(2)) == 1


FRIDAY = datetime(2026, 1, 9, tzinfo=UTC)


def test_every_field_of_a_ticket_met_on_both_clocks_across_a_reopen() -> None:
    """High priority (60 and 480 minutes), created Friday 16:30, pending 16:50-17:20, solved Friday
    20:00, reopened Monday 10:00, solved again Tuesday 12:00. The clock runs 20 + 160 minutes on
    Friday, then from Monday 10:00; business hours are Monday to Friday 09:00-17:00 UTC."""
    events = [
        created(at(16.5, FRIDAY), Priority.HIGH),
        TicketAssigned(ticket_id="T1", occurred_at=at(16.5 + 1 / 60, FRIDAY), agent_id="A1"),
        TicketAssigned(ticket_id="T1", occurred_at=at(16 + 40 / 60, FRIDAY), agent_id="A2"),
        TicketCategoryConfirmed(
            ticket_id="T1", occurred_at=at(16.75, FRIDAY), agent_id="A2", category="billing"
        ),
        status(at(16 + 50 / 60, FRIDAY), TicketStatus.PENDING),
        TicketAssigned(ticket_id="T1", occurred_at=at(17, FRIDAY), agent_id="A3"),
        TicketCategoryCorrected(
            ticket_id="T1", occurred_at=at(17 + 10 / 60, FRIDAY), agent_id="A3", category="cards"
        ),
        status(at(17 + 20 / 60, FRIDAY), TicketStatus.OPEN),
        AgentReplied(ticket_id="T1", occurred_at=at(17.75, FRIDAY), agent_id="A3"),
        status(at(20, FRIDAY), TicketStatus.SOLVED),
        TicketReopened(ticket_id="T1", occurred_at=at(24 * 3 + 10, FRIDAY)),
        status(at(24 * 4 + 12, FRIDAY), TicketStatus.SOLVED),
        CsatSubmitted(ticket_id="T1", occurred_at=at(24 * 4 + 13, FRIDAY), rating=5),
        CsatSubmitted(ticket_id="T1", occurred_at=at(24 * 4 + 14, FRIDAY), rating=2),
        CsatSubmitted(ticket_id="T1", occurred_at=at(24 * 4 + 15, FRIDAY), rating=4),
        TicketCategoryCorrected(
            ticket_id="T1", occurred_at=at(24 * 4 + 11, FRIDAY), agent_id="A1", category="loans"
        ),
    ]  # fmt: skip
    result = ticket_metrics(events, as_of=at(24 * 7, FRIDAY))
    assert result == metrics.TicketMetrics(
        ticket_id="T1",
        created_at=at(16.5, FRIDAY),
        priority=Priority.HIGH,
        status=TicketStatus.SOLVED,
        first_reply_at=at(17.75, FRIDAY),
        first_resolved_at=at(20, FRIDAY),
        full_resolved_at=at(24 * 4 + 12, FRIDAY),
        first_reply_due_at=at(18, FRIDAY),  # 20 minutes, then 40 from 17:20
        first_reply_due_business_at=at(24 * 3 + 10 + 40 / 60, FRIDAY),  # 20 on Friday, 40 on Monday
        resolution_due_at=at(24 * 3 + 15, FRIDAY),  # 180 on Friday, 300 from Monday 10:00
        resolution_due_business_at=at(24 * 4 + 9 + 40 / 60, FRIDAY),  # 20 + 420 Monday + 40 Tuesday
        is_first_reply_breached=False,
        is_first_reply_business_breached=False,
        is_resolution_breached=False,  # the first solve counts, in time on both clocks
        is_resolution_business_breached=False,
        reopen_count=1,
        transfer_count=2,
        csat_rating=4,  # the last rating
        category="loans",  # the last confirmation or correction
    )
    spans = [(span.status, span.previous_status) for span in metrics.status_timeline(events)]
    assert spans == [
        (TicketStatus.OPEN, None),
        (TicketStatus.PENDING, TicketStatus.OPEN),
        (TicketStatus.OPEN, TicketStatus.PENDING),
        (TicketStatus.SOLVED, TicketStatus.OPEN),
        (TicketStatus.OPEN, TicketStatus.SOLVED),
        (TicketStatus.SOLVED, TicketStatus.OPEN),
    ]


def test_every_field_of_a_ticket_late_on_both_clocks() -> None:
    """High priority created Monday 08:00, before business hours: an internal note, a public reply at
    12:00, solved Tuesday 12:00. Late on the calendar clock (09:00, 16:00) and on the business clock
    (10:00, Monday 17:00)."""
    events = [
        created(at(8), Priority.HIGH),
        AgentReplied(ticket_id="T1", occurred_at=at(8.5), agent_id="A1", is_public=False),
        TicketAssigned(ticket_id="T1", occurred_at=at(8.6), agent_id="A1"),
        AgentReplied(ticket_id="T1", occurred_at=at(12), agent_id="A1"),
        status(at(36), TicketStatus.SOLVED),
    ]
    result = ticket_metrics(events, as_of=at(48))
    assert result.first_reply_at == at(12)  # the internal note is not a reply
    assert (result.first_reply_due_at, result.first_reply_due_business_at) == (at(9), at(10))
    assert (result.resolution_due_at, result.resolution_due_business_at) == (at(16), at(17))
    assert result.is_first_reply_breached
    assert result.is_first_reply_business_breached
    assert result.is_resolution_breached
    assert result.is_resolution_business_breached
    assert (result.reopen_count, result.transfer_count, result.csat_rating, result.category) == (
        0,
        0,
        None,
        None,
    )
    in_time = ticket_metrics(
        [created(at(8)), AgentReplied(ticket_id="T1", occurred_at=at(8.5), agent_id="A1")], at(9)
    )
    assert metrics.service_level([result, in_time]) == 0.5
    assert metrics.minutes_between(at(8), at(9)) == 60
    assert metrics.minutes_between(at(8), None) is None


def test_a_priority_change_sets_the_targets_from_creation_and_the_latest_change_wins() -> None:
    ticket = [created(at(9), Priority.LOW)]
    low = ticket_metrics(ticket, as_of=at(10))
    assert low.first_reply_due_at == at(9) + timedelta(minutes=SLA_POLICIES[Priority.LOW].first_reply_minutes)
    # Triage raises it to urgent ten minutes in: urgent's target, counted from creation.
    ticket.append(TicketPriorityChanged(ticket_id="T1", occurred_at=at(9 + 1 / 6), priority=Priority.URGENT))
    urgent = ticket_metrics(ticket, as_of=at(10))
    assert urgent.priority == Priority.URGENT
    assert urgent.first_reply_due_at == at(9) + timedelta(
        minutes=SLA_POLICIES[Priority.URGENT].first_reply_minutes
    )
    assert urgent.is_first_reply_breached
    # A change that happened earlier but arrives later does not undo the latest.
    ticket.append(TicketPriorityChanged(ticket_id="T1", occurred_at=at(9.1), priority=Priority.NORMAL))
    assert ticket_metrics(ticket, as_of=at(10)).priority == Priority.URGENT
