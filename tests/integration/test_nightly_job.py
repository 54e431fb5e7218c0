"""`cxa batch nightly` end to end on a real PostgreSQL: dbt, forecasts, staffing; re-run; failure."""

import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from psycopg_pool import ConnectionPool

from batch.forecast import METHODS
from batch.nightly import staffing_targets
from batch.reforecast import day_factor_prior
from batch.settings import BatchSettings
from batch.staffing import channel_needs
from cxa import db
from cxa.events import Channel, Priority, TicketCreated
from cxa.marts import UNCATEGORIZED, ForecastGrain
from dash_app import figures
from dash_app.warehouse import Warehouse
from tests.fixtures.history import History, generate_history
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


def cxa_batch(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxa", "batch", *args],
        cwd=tmp_path,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
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
    # Tickets no agent categorized: the labelling backlog, which gets no forecast of its own.
    created = [event for event in history.ticket_events if isinstance(event, TicketCreated)]
    history.ticket_events += [
        event.model_copy(
            update={
                "event_id": uuid.uuid5(uuid.NAMESPACE_URL, event.ticket_id),
                "ticket_id": f"U-{event.ticket_id}",
            }
        )
        for event in created[::20]
    ]
    load_history(database_url, history)

    first = nightly(database_url, tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    for step in ("[1/3] dbt done", "[2/3] forecasts done", "[3/3] staffing done", "total"):
        assert step in first.stdout

    with db.connect(database_url) as conn:
        uncategorized = conn.execute(
            "SELECT sum(tickets_created) FROM marts.ticket_volume_hourly WHERE category = %s",
            (UNCATEGORIZED,),
        ).fetchone()
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
            " min(b.mase), min(b.reason), min(n.mase), min(b.interval_factor), min(b.calibrated_coverage),"
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
    assert uncategorized == (len(created[::20]),)
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
    for *_, method, methods, mase, reason, naive_mase, factor, calibrated, best_mase in choices:
        assert methods == 1
        assert mase == best_mase
        assert mase <= naive_mase
        assert reason
        assert reason.startswith(method)
        # The shipped interval's factor is stored beside the score, with what it covers out of sample.
        if factor is None:
            assert "interval as the method gives it" in reason
        else:
            assert f"interval x{factor:.2f} to cover 80%" in reason
            assert 0 <= calibrated <= 1
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
        listed = warehouse.forecast_queues()
    assert (len(hourly), len(daily)) == (14 * 24, 14)
    band = figures.forecast_figure(actual, daily, "chat").data[0].name
    assert band == "80% interval"  # named by the width the nightly job wrote (CXA_FORECAST_INTERVAL)
    assert hourly["yhat"].sum() == pytest.approx(daily["yhat"].sum(), rel=0.25)
    assert len(actual) == 70
    # The forecast page lists the channels first, then the categories A to Z whatever their case.
    assert listed["queue_type"].tolist() == ["channel"] * 5 + ["category"] * 5
    assert listed["queue"].tolist()[5:] == sorted(listed["queue"].tolist()[5:], key=str.lower)
    unknown_segment = segments[segments["segment"] == "unknown customer"]
    assert unknown_segment["customers"].tolist() == [1]

    # During the next day, the rest of it is revised from the morning's arrivals: chat runs busier
    # than its forecast, the other channels see no tickets.
    with db.connect(database_url) as conn:
        chat = conn.execute(
            "SELECT period_at, yhat FROM marts.ticket_volume_forecast WHERE queue_type = 'channel'"
            " AND queue = 'chat' AND grain = 'hour' AND period_at >= %s AND period_at <= %s ORDER BY 1",
            (datetime(2026, 3, 12, tzinfo=UTC), datetime(2026, 3, 12, 10, tzinfo=UTC)),
        ).fetchall()
    expected_so_far = sum(yhat for _, yhat in chat[:10]) + 0.5 * chat[10][1]  # to 10:30
    busy = round(3 * expected_so_far) + 10
    chats = [
        TicketCreated(
            ticket_id=f"NEXT-{i}",
            occurred_at=datetime(2026, 3, 12, 9, tzinfo=UTC) + timedelta(seconds=i),
            customer_id="C-next",
            channel=Channel.CHAT,
            priority=Priority.NORMAL,
            subject="Help",
            body="My order is late.",
        )
        for i in range(busy)
    ]
    load_history(database_url, History(ticket_events=chats))
    revised = cxa_batch(database_url, tmp_path, "reforecast", "--as-of", "2026-03-12T10:30:00+00:00")
    assert revised.returncode == 0, revised.stdout + revised.stderr
    assert "rest of 2026-03-12 from 10:30 UTC revised for 5 channels" in revised.stdout
    with db.connect(database_url) as conn:
        rest = conn.execute(
            "SELECT channel, count(*), min(period_at), min(ratio), min(arrivals_so_far),"
            " min(forecast_so_far), bool_and(abs(yhat - nightly_yhat * ratio) < 1e-9"
            " AND yhat_lower <= yhat AND yhat <= yhat_upper)"
            " FROM marts.intraday_forecast WHERE run_date = '2026-03-12' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        chat_rest = conn.execute(
            "SELECT i.yhat, i.agents_required, i.nightly_yhat = f.yhat FROM marts.intraday_forecast i"
            " JOIN marts.ticket_volume_forecast f ON f.queue_type = 'channel' AND f.queue = i.channel"
            " AND f.grain = 'hour' AND f.period_at = i.period_at AND f.run_date = '2026-03-12'"
            " WHERE i.channel = 'chat' ORDER BY i.period_at"
        ).fetchall()
    assert [row[:3] for row in rest] == [
        (channel, 14, datetime(2026, 3, 12, 10, tzinfo=UTC)) for channel in sorted(c.value for c in Channel)
    ]
    by_channel = {row[0]: row for row in rest}
    _, _, _, ratio, arrivals, so_far, _ = by_channel["chat"]
    assert (arrivals, so_far) == (busy, pytest.approx(expected_so_far))
    with db.connect(database_url) as conn:
        daily = conn.execute(
            "SELECT sum(tickets_created) FROM marts.ticket_volume_hourly WHERE channel = 'chat'"
            " AND hour_at >= '2026-01-15' AND hour_at < '2026-03-12' GROUP BY date_trunc('day', hour_at)"
            " ORDER BY date_trunc('day', hour_at)"
        ).fetchall()
    prior = day_factor_prior([float(total) for (total,) in daily])  # from how much chat's days swing
    assert ratio == pytest.approx((busy + prior) / (expected_so_far + prior))
    assert ratio > 1
    assert all(row[3] < 1 and row[4] == 0 for channel, row in by_channel.items() if channel != "chat")
    assert all(row[6] for row in rest)
    # Hourly rates (the current hour's in full), and the agents the nightly staffing models need for them.
    assert all(same for *_, same in chat_rest)
    settings = BatchSettings(_env_file=None)  # type: ignore[call-arg]
    needs = channel_needs(
        "chat", [r[0] for r in chat_rest], settings.aht_chat_seconds, staffing_targets(settings)
    )
    assert [r[1] for r in chat_rest] == [need.agents_scheduled for need in needs]
    assert max(r[1] for r in chat_rest) >= 1
    # The staffing page reads what the reforecast wrote.
    with ConnectionPool(database_url, min_size=1, max_size=1, open=True) as pool:
        today = Warehouse(pool).intraday()
    assert today["channel"].tolist() == sorted(c.value for c in Channel)
    chat_today = today.set_index("channel").loc["chat"]
    assert chat_today["ratio"] == pytest.approx(ratio)
    assert chat_today["arrivals_so_far"] == busy
    assert chat_today["agents_needed_this_hour"] == chat_rest[0][1]
    assert chat_today["to_midnight_revised"] == round(sum(r[0] for r in chat_rest))
    # The staffing gap takes the revised agents for the hours left today, the nightly's elsewhere.
    with db.connect(database_url) as conn:
        revised_need = dict(
            conn.execute(
                "SELECT period_at, sum(agents_required) FROM marts.intraday_forecast GROUP BY 1"
            ).fetchall()
        )
        nightly_gap = {
            row[0]: row[1:]
            for row in conn.execute(
                "SELECT period_at, agents_required, agents_scheduled FROM marts.staffing_gap"
                " WHERE run_date = '2026-03-12'"
            ).fetchall()
        }
    with ConnectionPool(database_url, min_size=1, max_size=1, open=True) as pool:
        gap = Warehouse(pool).staffing_gap()
    assert len(gap) == len(nightly_gap)
    assert set(revised_need) < set(nightly_gap)
    for row in gap.itertuples():
        required, scheduled = nightly_gap[row.period_at]
        assert (row.agents_required_nightly, row.agents_scheduled) == (required, scheduled)
        assert row.agents_required == revised_need.get(row.period_at, required), row.period_at
        assert row.gap == row.agents_required - scheduled
        assert pd.isna(row.revised_at) == (row.period_at not in revised_need)
    assert any(revised_need[hour] != nightly_gap[hour][0] for hour in revised_need)  # chat's busy day

    before = counts(database_url)
    again = nightly(database_url, tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert counts(database_url) == before  # the same day's rows are replaced, not duplicated

    # A nightly that ran at 09:00 forecasts from 09:00: the earlier hours' arrivals do not count.
    with db.connect(database_url) as conn:
        conn.execute(
            "DELETE FROM marts.ticket_volume_forecast WHERE run_date = '2026-03-12' AND grain = 'hour'"
            " AND period_at < '2026-03-12T09:00:00+00:00'"
        )
        conn.commit()
        nine, ten = (
            yhat
            for (yhat,) in conn.execute(
                "SELECT yhat FROM marts.ticket_volume_forecast WHERE run_date = '2026-03-12'"
                " AND queue_type = 'channel' AND queue = 'chat' AND grain = 'hour'"
                " AND period_at IN ('2026-03-12T09:00:00+00:00', '2026-03-12T10:00:00+00:00')"
                " ORDER BY period_at"
            ).fetchall()
        )
    late = cxa_batch(database_url, tmp_path, "reforecast", "--as-of", "2026-03-12T10:30:00+00:00")
    assert late.returncode == 0, late.stdout + late.stderr
    assert "arrivals from 09:00, where the nightly forecast starts" in late.stdout
    with db.connect(database_url) as conn:
        late_chat = conn.execute(
            "SELECT min(arrivals_so_far), min(forecast_so_far) FROM marts.intraday_forecast"
            " WHERE run_date = '2026-03-12' AND channel = 'chat'"
        ).fetchone()
    assert late_chat == (busy, pytest.approx(nine + 0.5 * ten))


def test_nightly_fails_clearly_and_non_zero(database_url: str, tmp_path: Path) -> None:
    missing = database_url.rsplit("/", 1)[0] + "/no_such_database"
    result = nightly(missing, tmp_path)
    assert result.returncode == 1
    assert "step 'dbt' failed" in result.stderr
    assert "[1/3] dbt ..." in result.stdout
