"""`cxa batch nightly` end to end on a real PostgreSQL: dbt, forecasts, staffing; re-run; failure."""

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from psycopg_pool import ConnectionPool

from batch.forecast import METHODS
from cxa import db
from cxa.marts import ForecastGrain
from dash_app.warehouse import Warehouse
from tests.fixtures.history import generate_history
from tests.fixtures.raw_loader import load_history

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AS_OF = "2026-03-12T00:00:00+00:00"
TABLES = (
    "ticket_volume_forecast",
    "forecast_backtest",
    "staffing_requirements",
    "staffing_gap",
    "shift_plan",
)


def nightly(database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CXA_DBT_TARGET_DIR": str(tmp_path / "dbt"),
        "CXA_BACKTEST_FOLDS": "2",
        "CXA_FORECAST_SAMPLES": "50",
        "CXA_SOLVER_SECONDS": "20",
    }
    return subprocess.run(
        [sys.executable, "-m", "cxa", "batch", "nightly", "--as-of", AS_OF],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def counts(database_url: str) -> dict[str, int]:
    with db.connect(database_url) as conn:
        return {
            table: (conn.execute(f"SELECT count(*) FROM marts.{table}").fetchone() or (0,))[0]
            for table in TABLES
        }


def test_nightly_builds_marts_forecasts_and_staffing_and_is_safe_to_rerun(
    database_url: str, tmp_path: Path
) -> None:
    history = generate_history(date(2026, 1, 1), 70, 30, seed=5)
    # Webhook-fed and replayed tickets come from customers, and are worked by agents, that no
    # reference data names: the nightly job must still pass, and show them as unknown.
    stranger, outsider = history.customers.pop(0), history.agents.pop(0)
    load_history(database_url, history)

    first = nightly(database_url, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    for step in ("[1/3] dbt done", "[2/3] forecasts done", "[3/3] staffing done", "total"):
        assert step in first.stdout

    with db.connect(database_url) as conn:
        queues = conn.execute(
            "SELECT queue_type, count(DISTINCT queue), count(*) FILTER (WHERE grain = 'hour'),"
            " count(*) FILTER (WHERE grain = 'day'), min(model_version), bool_and(yhat_lower <= yhat"
            " AND yhat <= yhat_upper AND yhat_lower >= 0), min(period_at)"
            " FROM marts.ticket_volume_forecast GROUP BY queue_type ORDER BY queue_type"
        ).fetchall()
        backtests = conn.execute(
            "SELECT method, count(*), bool_and(mase >= 0 AND coverage BETWEEN 0 AND 1 AND fit_seconds >= 0)"
            " FROM marts.forecast_backtest GROUP BY method ORDER BY method"
        ).fetchall()
        # Each series and grain is forecast with the one method its backtest scored best.
        choices = conn.execute(
            "SELECT f.queue_type, f.queue, f.grain, min(f.method), count(DISTINCT f.method),"
            " min(b.mase), min(b.reason), min(n.mase),"
            " (SELECT min(mase) FROM marts.forecast_backtest a WHERE (a.queue_type, a.queue, a.grain)"
            "  = (f.queue_type, f.queue, f.grain))"
            " FROM marts.ticket_volume_forecast f"
            " JOIN marts.forecast_backtest b USING (run_date, queue_type, queue, grain, method)"
            " JOIN marts.forecast_backtest n ON (n.run_date, n.queue_type, n.queue, n.grain, n.method)"
            "  = (f.run_date, f.queue_type, f.queue, f.grain, 'seasonal_naive')"
            " WHERE b.is_chosen GROUP BY 1, 2, 3"
        ).fetchall()
        chosen_rows = conn.execute("SELECT count(*) FROM marts.forecast_backtest WHERE is_chosen").fetchone()
        real_time = conn.execute(
            "SELECT min(expected_service_level), max(expected_occupancy), count(*)"
            " FROM marts.staffing_requirements WHERE channel IN ('chat', 'phone') AND forecast_arrivals > 0"
        ).fetchone()
        models = dict(conn.execute("SELECT channel, min(model) FROM marts.staffing_requirements GROUP BY 1"))
        uncovered = conn.execute(
            "SELECT count(*) FROM marts.shift_plan WHERE agents_on_shift < agents_required"
        ).fetchone()
        gap = conn.execute(
            "SELECT bool_and(gap = agents_required - agents_scheduled), count(*) FROM marts.staffing_gap"
        ).fetchone()
    assert [row[:4] for row in queues] == [
        ("category", 5, 5 * 14 * 24, 5 * 14),
        ("channel", 5, 5 * 14 * 24, 5 * 14),
    ]
    assert all(row[5] for row in queues)
    assert str(queues[0][6]) >= "2026-03-11"  # forecasts start after the history
    # Every candidate backtested on each of the 10 queues at both grains.
    assert [(method, count) for method, count, _ in backtests] == [(method, 20) for method in sorted(METHODS)]
    assert all(valid for _, _, valid in backtests)
    assert len(choices) == 20
    assert chosen_rows == (20,)
    for *_, method, methods, mase, reason, naive_mase, best_mase in choices:
        assert methods == 1
        assert mase == best_mase
        assert mase <= naive_mase
        assert reason
        assert reason.startswith(method)
    assert real_time is not None
    assert real_time[0] >= 0.8  # Erlang C meets the 80% target in every hour with calls
    assert real_time[1] <= 0.85  # ... within the maximum occupancy
    assert models == {
        "chat": "erlang_c",
        "phone": "erlang_c",
        "email": "backlog",
        "web": "backlog",
        "social": "backlog",
    }
    assert uncovered == (0,)
    assert gap == (True, 168)

    with db.connect(database_url) as conn:
        unknown = conn.execute(
            "SELECT customer_id, segment, is_known_customer, tickets_total FROM marts.customer_insights"
            " WHERE NOT is_known_customer"
        ).fetchall()
        stranger_tickets = conn.execute(
            "SELECT count(*) FROM marts.ticket_analytics WHERE customer_id = %s", (stranger.customer_id,)
        ).fetchone()
        known = conn.execute(
            "SELECT count(*) FILTER (WHERE is_known_customer), count(*) FROM marts.customer_insights"
        ).fetchone()
        outsider_days = conn.execute(
            "SELECT count(*), count(team) FROM marts.agent_performance_metrics WHERE agent_id = %s",
            (outsider.agent_id,),
        ).fetchone()
    assert stranger_tickets is not None
    assert stranger_tickets[0] > 0
    assert unknown == [(stranger.customer_id, "unknown customer", False, stranger_tickets[0])]
    assert known == (len(history.customers), len(history.customers) + 1)
    assert outsider_days is not None
    assert outsider_days[0] > 0
    assert outsider_days[1] == 0

    # The dashboard reads what the nightly job wrote, at both grains (one spelling of the grain).
    with ConnectionPool(database_url, min_size=1, max_size=1, open=True) as pool:
        warehouse = Warehouse(pool)
        hourly = warehouse.forecast("channel", "chat", ForecastGrain.HOUR)
        daily = warehouse.forecast("channel", "chat", ForecastGrain.DAY)
        actual = warehouse.actual_volume(
            "channel", "chat", ForecastGrain.DAY, datetime(2026, 1, 1, tzinfo=UTC)
        )
        segments = warehouse.customer_segments()
    assert (len(hourly), len(daily)) == (14 * 24, 14)
    assert hourly["yhat"].sum() == pytest.approx(daily["yhat"].sum(), rel=0.25)
    assert len(actual) == 70
    unknown_segment = segments[segments["segment"] == "unknown customer"]
    assert unknown_segment["customers"].tolist() == [1]

    before = counts(database_url)
    again = nightly(database_url, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert counts(database_url) == before  # the same day's rows are replaced, not duplicated


def test_nightly_fails_clearly_and_non_zero(database_url: str, tmp_path: Path) -> None:
    missing = database_url.rsplit("/", 1)[0] + "/no_such_database"
    result = nightly(missing, tmp_path)
    assert result.returncode == 1
    assert "step 'dbt' failed" in result.stderr
    assert "[1/3] dbt ..." in result.stdout
