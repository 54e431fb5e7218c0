"""The dashboard's queries on marts dbt built, not on tests.fixtures.marts's stand-ins.

The browser tests and the dashboard benchmark read marts that tests.fixtures.marts makes up; this
test guards against drift between those and the real models. A synthetic history (with the
stream categorizer's predictions) goes into raw, `dbt build` runs, and every Warehouse read of a
dbt-built mart must return rows, with a value in every column, that the pages' figures can draw;
the confusion matrix must count exactly the tickets of the history. Forecast and staffing marts
come from the Python batch steps (Prophet, CBC), too slow for this test: test_nightly_job covers
their tables, not the dashboard's reads of them.
"""

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from psycopg_pool import ConnectionPool

from batch import transform
from batch.settings import BatchSettings
from cxa import db
from cxa.events import Channel, TicketCategoryConfirmed, TicketCategoryCorrected
from cxa.marts import ForecastGrain
from dash_app import figures
from dash_app.filters import TicketFilter
from dash_app.warehouse import Warehouse
from tests.fixtures.history import CATEGORIES, History, generate_history, generate_predictions
from tests.fixtures.marts import DDL
from tests.fixtures.raw_loader import load_history

pytestmark = pytest.mark.integration

START = date(2026, 1, 1)
DAYS = 21
AS_OF = datetime(2026, 1, 22, tzinfo=UTC)


def expected_confusion(history: History) -> dict[str, Counter[tuple[str, str]]]:
    """(true, predicted) -> tickets per source, straight from the events (one label stream per ticket)."""
    labels: dict[str, list[TicketCategoryConfirmed | TicketCategoryCorrected]] = {}
    for event in sorted(history.ticket_events, key=lambda e: e.occurred_at):
        if isinstance(event, TicketCategoryConfirmed | TicketCategoryCorrected):
            labels.setdefault(event.ticket_id, []).append(event)
    first_guess: Counter[tuple[str, str]] = Counter()
    for events in labels.values():
        first = events[0]
        guess = first.category if isinstance(first, TicketCategoryConfirmed) else first.previous_category
        first_guess[(events[-1].category, guess or "unknown")] += 1
    model: Counter[tuple[str, str]] = Counter()
    for prediction in history.predictions:
        if prediction.ticket_id in labels:
            model[(labels[prediction.ticket_id][-1].category, prediction.category or "abstained")] += 1
    return {"model": model, "first_guess": first_guess}


def as_counter(frame: pd.DataFrame) -> Counter[tuple[str, str]]:
    return Counter(
        {(r.true_category, r.predicted_category): int(r.tickets) for r in frame.itertuples() if r.tickets}
    )


def synthetic_columns() -> dict[str, set[str]]:
    """The columns tests.fixtures.marts gives each marts table it makes up."""
    tables = {}
    for statement in DDL:
        match = re.match(r"\s*CREATE TABLE IF NOT EXISTS marts\.(\w+) \((.*)\)\s*$", statement, re.S)
        if match:
            tables[match[1]] = {item.split()[0] for item in match[2].split(",")}
    return tables


def test_every_dashboard_read_of_a_dbt_built_mart_returns_drawable_rows(
    database_url: str, tmp_path: Path
) -> None:
    history = generate_history(START, DAYS, 30, seed=3)
    # As a worker replaying the history computes them: all at once, after the fact.
    history.predictions = generate_predictions(history, seed=3, computed_at=AS_OF)
    load_history(database_url, history)
    result = transform.build(
        database_url,
        BatchSettings(CXA_DBT_TARGET_DIR=tmp_path),
        dbt_vars=f"{{as_of: '{AS_OF.isoformat()}'}}",
    )
    assert "ERROR=0" in result.output

    with db.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'marts'"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes"
            " WHERE schemaname = 'marts' AND tablename = 'categorizer_confusion'"
        ).fetchall()
    assert [row[0] for row in indexes if "(source, activity_date)" in row[0]]  # the page's date-range reads
    built: dict[str, set[str]] = {}
    for table, column in rows:
        built.setdefault(table, set()).add(column)
    for table, columns in synthetic_columns().items():
        if table in built:  # the forecast and staffing tables are not dbt's
            assert columns <= built[table], (table, columns - built[table])
    assert set(synthetic_columns()) & set(built) == {
        "ticket_analytics",
        "ticket_volume_hourly",
        "agent_performance_metrics",
        "customer_insights",
        "categorizer_performance",
        "categorizer_confusion",
    }

    with ConnectionPool(
        db.libpq_url(database_url), min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:
        warehouse = Warehouse(pool)
        options = warehouse.filter_options()
        assert options["last_day"] == START + timedelta(days=DAYS - 1)
        assert set(options["channels"]) == {channel.value for channel in Channel}
        assert set(options["categories"]) == set(CATEGORIES)
        assert options["teams"]
        last = options["last_day"]
        everything = TicketFilter(START, last)
        team = options["teams"][0]
        by_team = TicketFilter(START, last, team=team)
        reads = {
            "volume_daily": warehouse.volume_daily(everything),
            "volume_daily by team": warehouse.volume_daily(by_team),
            "sla_by channel": warehouse.sla_by(everything, "channel"),
            "sla_by agent": warehouse.sla_by(everything, "assigned_agent_id"),
            "tickets": warehouse.tickets(everything),
            "tickets drilled": warehouse.tickets(everything, "channel", "chat"),
            "agent_performance": warehouse.agent_performance(everything),
            "agent_performance by team": warehouse.agent_performance(by_team),
            "customer_segments": warehouse.customer_segments(),
            "churn_risk_customers": warehouse.churn_risk_customers(),
            "actual_volume hourly": warehouse.actual_volume("channel", "chat", ForecastGrain.HOUR, START),
            "actual_volume daily": warehouse.actual_volume("category", "billing", ForecastGrain.DAY, START),
            "categorizer_daily": warehouse.categorizer_daily(everything),
            "categorizer_confusion model": warehouse.categorizer_confusion(everything, "model"),
            "categorizer_confusion first_guess": warehouse.categorizer_confusion(everything, "first_guess"),
        }
    for name, frame in reads.items():
        assert not frame.empty, name
        empty_columns = [column for column in frame.columns if frame[column].isna().all()]
        assert not empty_columns, (name, empty_columns)

    tickets = len({event.ticket_id for event in history.ticket_events})
    assert int(reads["volume_daily"]["tickets"].sum()) == tickets
    assert 0 < int(reads["volume_daily by team"]["tickets"].sum()) < tickets
    assert set(reads["tickets drilled"]["channel"]) == {"chat"}
    assert set(reads["agent_performance by team"]["team"]) == {team}
    assert set(reads["categorizer_daily"]["source"]) == {"model", "first_guess"}

    # The confusion matrix counts exactly the history's labelled tickets, per source.
    expected = expected_confusion(history)
    assert as_counter(reads["categorizer_confusion model"]) == expected["model"]
    assert as_counter(reads["categorizer_confusion first_guess"]) == expected["first_guess"]
    assert any(predicted == "abstained" for _, predicted in expected["model"])
    model_daily = reads["categorizer_daily"][reads["categorizer_daily"]["source"] == "model"]
    # Dated by the ticket, not by when the answer was computed: every day of the history is scored.
    assert sorted(model_daily["day"]) == [START + timedelta(days=d) for d in range(DAYS)]
    matrix = figures.confusion_matrix(reads["categorizer_confusion model"])
    assert int(model_daily["labelled"].sum()) == int(matrix.counts.drop(columns="abstained").to_numpy().sum())
    assert int(model_daily["correct"].sum()) == sum(matrix.counts.loc[c, c] for c in matrix.counts.index)

    drawn = [
        figures.volume_figure(reads["volume_daily"]),
        figures.sla_figure(reads["sla_by channel"], "channel"),
        figures.agent_performance_figure(reads["agent_performance"]),
        figures.customer_segment_figure(reads["customer_segments"]),
        figures.forecast_figure(reads["actual_volume daily"], pd.DataFrame(), "billing"),
        figures.categorizer_accuracy_figure(reads["categorizer_daily"], pd.DataFrame()),
        figures.confusion_figure(reads["categorizer_confusion model"]),
        figures.confusion_figure(reads["categorizer_confusion first_guess"], source="first_guess"),
    ]
    for figure in drawn:
        assert figure.data, figure.layout.title.text
        assert not figure.layout.annotations, figure.layout.title.text  # not a "no data" figure
