"""dbt build on a real PostgreSQL: the marts' numbers equal cxa.metrics on the same events.

A deterministic synthetic history plus hand-made edge cases (pauses, a weekend, reopen after close,
a ticket on hold for good) goes into raw; `dbt build` (models and their tests) runs; every ticket
in marts.ticket_analytics is compared field by field with the Python definitions. Then new events
arrive, the incremental build runs, and the comparison holds again. `dbt docs generate` works.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from batch import transform
from batch.settings import BatchSettings
from cxa import db, metrics
from cxa.events import (
    AgentReplied,
    CsatSubmitted,
    CustomerReplied,
    Priority,
    TicketAssigned,
    TicketCreated,
    TicketPriorityChanged,
    TicketReopened,
    TicketStatus,
    TicketStatusChanged,
)
from tests.fixtures.history import History, generate_history
from tests.fixtures.raw_loader import load_history

pytestmark = pytest.mark.integration

AS_OF = datetime(2026, 1, 22, tzinfo=UTC)
MONDAY = datetime(2026, 1, 12, tzinfo=UTC)
DUE_COLUMNS = (
    "first_reply_due_at",
    "first_reply_due_business_at",
    "resolution_due_at",
    "resolution_due_business_at",
)
MOMENT_COLUMNS = ("first_reply_at", "first_resolved_at", "full_resolved_at", *DUE_COLUMNS)
FLAG_COLUMNS = (
    "is_first_reply_breached",
    "is_first_reply_business_breached",
    "is_resolution_breached",
    "is_resolution_business_breached",
)


def edge_cases(customer_id: str) -> list[Any]:
    def created(ticket_id: str, at: datetime, priority: Priority) -> TicketCreated:
        return TicketCreated(
            ticket_id=ticket_id, occurred_at=at, customer_id=customer_id, channel="email",
            priority=priority, subject="s", body="b",
        )  # fmt: skip

    def status(ticket_id: str, at: datetime, value: TicketStatus) -> TicketStatusChanged:
        return TicketStatusChanged(ticket_id=ticket_id, occurred_at=at, status=value)

    hour = timedelta(hours=1)
    friday = MONDAY + timedelta(days=4)
    return [
        # Paused while pending: calendar first-reply due 10:20, replied 10:30 (breached).
        created("EDGE-PAUSE", MONDAY + 10 * hour, Priority.URGENT),
        status("EDGE-PAUSE", MONDAY + 10 * hour + timedelta(minutes=10), TicketStatus.PENDING),
        status("EDGE-PAUSE", MONDAY + 12 * hour, TicketStatus.OPEN),
        AgentReplied(ticket_id="EDGE-PAUSE", occurred_at=MONDAY + 12.5 * hour, agent_id="A0000"),
        # Friday afternoon, low priority: the business clock waits for Monday.
        created("EDGE-WEEKEND", friday + 16.75 * hour, Priority.LOW),
        AgentReplied(ticket_id="EDGE-WEEKEND", occurred_at=friday + 20 * hour, agent_id="A0001"),
        # Solved, closed, reopened, solved again; transferred once (its assignment re-sent is
        # none); rated twice.
        created("EDGE-REOPEN", MONDAY + 9 * hour, Priority.HIGH),
        TicketAssigned(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 9.1 * hour, agent_id="A0000"),
        TicketAssigned(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 9.15 * hour, agent_id="A0000"),
        TicketAssigned(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 9.2 * hour, agent_id="A0001"),
        AgentReplied(
            ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 9.5 * hour, agent_id="A0001", is_public=False
        ),
        AgentReplied(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 9.7 * hour, agent_id="A0001"),
        status("EDGE-REOPEN", MONDAY + 10 * hour, TicketStatus.SOLVED),
        status("EDGE-REOPEN", MONDAY + 11 * hour, TicketStatus.CLOSED),
        CsatSubmitted(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 11.5 * hour, rating=2),
        TicketReopened(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 30 * hour, customer_id=customer_id),
        CustomerReplied(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 30.1 * hour, customer_id=customer_id),
        status("EDGE-REOPEN", MONDAY + 40 * hour, TicketStatus.SOLVED),
        CsatSubmitted(ticket_id="EDGE-REOPEN", occurred_at=MONDAY + 41 * hour, rating=5),
        # Created low, raised to urgent by triage: urgent's targets from creation (breached).
        created("EDGE-PRIORITY", MONDAY + 10 * hour, Priority.LOW),
        TicketPriorityChanged(
            ticket_id="EDGE-PRIORITY", occurred_at=MONDAY + 10.2 * hour, priority=Priority.URGENT
        ),
        AgentReplied(ticket_id="EDGE-PRIORITY", occurred_at=MONDAY + 11 * hour, agent_id="A0000"),
        # On hold for good: no due time, never breached.
        created("EDGE-HOLD", MONDAY + 9 * hour, Priority.NORMAL),
        status("EDGE-HOLD", MONDAY + 9.5 * hour, TicketStatus.ON_HOLD),
        # Never answered: breached at as_of.
        created("EDGE-SILENT", MONDAY + 9 * hour, Priority.URGENT),
    ]


def python_metrics(events: Sequence[Any]) -> dict[str, metrics.TicketMetrics]:
    by_ticket: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        by_ticket[event.ticket_id].append(event)
    return {ticket_id: metrics.ticket_metrics(items, AS_OF) for ticket_id, items in by_ticket.items()}


def mart_rows(url: str) -> dict[str, dict[str, Any]]:
    with db.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT * FROM marts.ticket_analytics")
        names = [column.name for column in cursor.description or []]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def assert_agree(url: str, events: Sequence[Any]) -> dict[str, dict[str, Any]]:
    expected = python_metrics(events)
    rows = mart_rows(url)
    assert set(rows) == set(expected)
    for ticket_id, want in expected.items():
        row = rows[ticket_id]
        for column in MOMENT_COLUMNS:
            got, wanted = row[column], getattr(want, column)
            assert (got is None) == (wanted is None), (ticket_id, column, got, wanted)
            if got is not None:
                assert abs((got - wanted).total_seconds()) < 0.01, (ticket_id, column, got, wanted)
        for column in FLAG_COLUMNS:
            assert row[column] == getattr(want, column), (ticket_id, column)
        assert (row["status"], row["priority"]) == (want.status.value, want.priority.value), ticket_id
        assert (row["reopen_count"], row["transfer_count"]) == (want.reopen_count, want.transfer_count), (
            ticket_id
        )
        assert (row["csat_rating"], row["category"]) == (want.csat_rating, want.category), ticket_id
        if want.first_reply_minutes is not None:
            assert float(row["first_reply_minutes"]) == pytest.approx(want.first_reply_minutes, abs=1e-3)
    return rows


def test_dbt_marts_agree_with_the_python_metric_definitions(database_url: str, tmp_path: Path) -> None:
    history = generate_history(date(2026, 1, 1), 21, 30, seed=11)
    history.ticket_events += edge_cases(history.customers[0].customer_id)
    load_history(database_url, history)
    labelled = [t for t in python_metrics(history.ticket_events).values() if t.category][:3]
    with db.connect(database_url) as conn:
        for ticket, predicted in zip(
            labelled, [labelled[0].category, "not-" + str(labelled[1].category), None], strict=True
        ):
            conn.execute(
                "INSERT INTO raw.ticket_categorizations (event_id, ticket_id, category, confidence, top,"
                " model_version, latency_ms, predicted_at)"
                " VALUES (gen_random_uuid(), %s, %s, 0.9, '[]', 'm1', 2.5, %s)",
                (ticket.ticket_id, predicted, ticket.created_at),
            )
    settings = BatchSettings(CXA_DBT_TARGET_DIR=tmp_path)
    as_of_var = f"{{as_of: '{AS_OF.isoformat()}'}}"

    result = transform.build(database_url, settings, dbt_vars=as_of_var)
    assert "ERROR=0" in result.output
    rows = assert_agree(database_url, history.ticket_events)
    assert len(rows) > 500

    pause = rows["EDGE-PAUSE"]
    assert pause["first_reply_due_at"] == MONDAY + timedelta(hours=12, minutes=20)
    assert pause["is_first_reply_breached"]
    weekend = rows["EDGE-WEEKEND"]
    assert weekend["first_reply_due_business_at"] == MONDAY + timedelta(days=7, hours=16, minutes=45)
    assert not weekend["is_first_reply_business_breached"]
    assert weekend["is_first_reply_breached"] is False  # replied 20:00 < due 00:45 next day
    assert rows["EDGE-HOLD"]["first_reply_due_at"] is None
    assert rows["EDGE-SILENT"]["is_first_reply_breached"]
    assert (rows["EDGE-REOPEN"]["reopen_count"], rows["EDGE-REOPEN"]["customer_effort"]) == (1, 2)
    assert rows["EDGE-REOPEN"]["transfer_count"] == 1  # three assignments, one of them re-sent
    assert (rows["EDGE-PRIORITY"]["priority"], rows["EDGE-PRIORITY"]["is_first_reply_breached"]) == (
        "urgent",
        True,
    )

    with db.connect(database_url) as conn:
        csat, reopen, backlog, service = conn.execute(
            "SELECT avg(is_satisfied::int) FILTER (WHERE csat_rating IS NOT NULL),"
            " avg(is_reopened::int) FILTER (WHERE first_resolved_at IS NOT NULL),"
            " count(*) FILTER (WHERE is_backlog),"
            " avg((NOT is_first_reply_breached)::int) FILTER (WHERE first_reply_due_at IS NOT NULL)"
            " FROM marts.ticket_analytics"
        ).fetchone() or (None, None, None, None)
        first_replies = conn.execute(
            "SELECT sum(first_replies) FROM marts.agent_performance_metrics"
        ).fetchone()
        hourly = conn.execute("SELECT sum(tickets_created) FROM marts.ticket_volume_hourly").fetchone()
        categorizer = conn.execute(
            "SELECT sum(predictions), sum(corrections) FROM marts.categorizer_performance"
            " WHERE source = 'first_guess'"
        ).fetchone()
    tickets = list(python_metrics(history.ticket_events).values())
    assert float(csat) == pytest.approx(metrics.csat_score(t.csat_rating for t in tickets if t.csat_rating))
    assert float(reopen) == pytest.approx(metrics.reopen_rate(tickets))
    timelines = [metrics.status_timeline(events) for events in group(history.ticket_events).values()]
    assert backlog == metrics.backlog(timelines, AS_OF)
    assert float(service) == pytest.approx(metrics.service_level(tickets))
    assert first_replies == (sum(t.first_reply_at is not None for t in tickets),)
    assert hourly == (len(tickets),)
    corrected = sum(isinstance(e, metrics.TicketCategoryCorrected) for e in history.ticket_events)
    assert categorizer is not None
    assert categorizer[1] == corrected
    with db.connect(database_url) as conn:
        model = conn.execute(
            "SELECT sum(predictions), sum(abstentions), sum(labelled), sum(correct_predictions)"
            " FROM marts.categorizer_performance WHERE source = 'model' AND model_version = 'm1'"
        ).fetchone()
    assert model == (3, 1, 2, 1)

    # New events arrive: a closed ticket is reopened and a new ticket comes in; the incremental
    # build reprocesses only those tickets and the marts still agree with the definitions.
    closed = next(
        t for t in tickets if t.status == TicketStatus.CLOSED and not t.ticket_id.startswith("EDGE")
    )
    newcomer = history.customers[1].customer_id
    late = [
        TicketReopened(ticket_id=closed.ticket_id, occurred_at=AS_OF - timedelta(hours=3)),
        AgentReplied(ticket_id=closed.ticket_id, occurred_at=AS_OF - timedelta(hours=2), agent_id="A0002"),
        TicketCreated(
            ticket_id="EDGE-NEW", occurred_at=AS_OF - timedelta(hours=1), customer_id=newcomer,
            channel="chat", priority=Priority.HIGH, subject="s", body="b",
        ),
    ]  # fmt: skip
    load_history(database_url, History(ticket_events=late))
    transform.build(database_url, settings, dbt_vars=as_of_var)
    rows = assert_agree(database_url, [*history.ticket_events, *late])
    assert rows[closed.ticket_id]["status"] == "open"
    assert rows[closed.ticket_id]["full_resolved_at"] is None
    assert rows["EDGE-NEW"]["channel"] == "chat"

    transform.generate_docs(database_url, settings)
    catalog = (tmp_path / "target" / "catalog.json").read_text()
    assert "ticket_analytics" in catalog
    assert "customer_insights" in catalog


def group(events: Sequence[Any]) -> dict[str, list[Any]]:
    by_ticket: dict[str, list[Any]] = defaultdict(list)
    for event in events:
        by_ticket[event.ticket_id].append(event)
    return by_ticket
