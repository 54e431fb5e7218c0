"""The batch side's store: read history from the marts, write forecasts and staffing to the marts.

The output tables are made by a migration (``cxa migrate``). Each is keyed by the run date: a
re-run of the same day replaces that day's rows in one transaction, so the job is safe to repeat.
"""

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
import psycopg

from cxa.marts import ForecastGrain

FORECAST_COLUMNS = (
    "run_date", "run_at", "model_version", "method", "queue_type", "queue", "grain", "period_at",
    "yhat", "yhat_lower", "yhat_upper", "interval_width",
)  # fmt: skip
BACKTEST_COLUMNS = (
    "run_date", "run_at", "model_version", "queue_type", "queue", "grain", "method", "horizon",
    "folds", "points", "mape", "mase", "coverage", "beats_baseline", "is_chosen", "reason", "fit_seconds",
    "interval_factor", "calibrated_coverage",
)  # fmt: skip
INTRADAY_COLUMNS = (
    "run_date", "run_at", "channel", "period_at", "yhat", "yhat_lower", "yhat_upper", "nightly_yhat",
    "ratio", "arrivals_so_far", "forecast_so_far", "agents_required",
)  # fmt: skip
REQUIREMENT_COLUMNS = (
    "run_date", "run_at", "channel", "period_at", "model", "forecast_arrivals", "aht_seconds",
    "workload_erlangs", "agents_on_queue", "agents_required", "expected_service_level",
    "expected_wait_seconds", "expected_occupancy",
)  # fmt: skip
GAP_COLUMNS = (
    "run_date", "run_at", "period_at", "hour_of_week", "agents_required", "agents_scheduled",
    "agents_planned", "gap",
)  # fmt: skip
SHIFT_COLUMNS = (
    "run_date", "run_at", "hour_of_week", "shift_starts", "agents_on_shift", "agents_required",
    "shift_hours", "total_cost", "solver_status",
)  # fmt: skip


def replace_rows(
    conn: psycopg.Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    run_date: date,
    scope: dict[str, str] | None = None,
) -> int:
    """Delete the run date's rows (within ``scope``) and insert ``rows``, in the caller's transaction."""
    conditions = ["run_date = %s", *(f"{column} = %s" for column in (scope or {}))]
    conn.execute(
        f"DELETE FROM marts.{table} WHERE {' AND '.join(conditions)}",
        [run_date, *(scope or {}).values()],
    )
    count = 0
    with conn.cursor().copy(f"COPY marts.{table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def hourly_volume(
    conn: psycopg.Connection, queue_type: str, since: datetime, until: datetime
) -> pd.DataFrame:
    """Tickets created per hour per queue in [since, until): columns hour_at, queue, tickets."""
    if queue_type not in ("channel", "category"):
        raise ValueError(f"queue type must be channel or category, not {queue_type!r}")
    rows = conn.execute(
        f"SELECT hour_at, {queue_type} AS queue, sum(tickets_created)::float AS tickets"
        " FROM marts.ticket_volume_hourly WHERE hour_at >= %s AND hour_at < %s GROUP BY 1, 2 ORDER BY 1",
        (since, until),
    ).fetchall()
    return pd.DataFrame(rows, columns=["hour_at", "queue", "tickets"])


def last_volume_hour(conn: psycopg.Connection) -> datetime | None:
    row = conn.execute("SELECT max(hour_at) FROM marts.ticket_volume_hourly").fetchone()
    return row[0] if row else None


def scheduled_agents(conn: psycopg.Connection) -> list[int]:
    """Agents the roster schedules per hour of the week (168 values, Monday 00:00 UTC first)."""
    rows = conn.execute(
        "SELECT hour_of_week, scheduled_agents FROM marts.scheduled_agents_hourly ORDER BY hour_of_week"
    ).fetchall()
    schedule = [0] * 168
    for hour, agents in rows:
        schedule[hour] = int(agents)
    return schedule


def todays_channel_forecast(conn: psycopg.Connection, day_start: datetime) -> pd.DataFrame:
    """The latest nightly run's hourly forecast per channel for the UTC day from ``day_start``:
    columns channel, period_at, yhat, yhat_lower, yhat_upper."""
    rows = conn.execute(
        "SELECT queue, period_at, yhat, yhat_lower, yhat_upper FROM marts.ticket_volume_forecast"
        " WHERE run_date = (SELECT max(run_date) FROM marts.ticket_volume_forecast WHERE run_date <= %s)"
        " AND queue_type = 'channel' AND grain = %s AND period_at >= %s AND period_at < %s"
        " ORDER BY queue, period_at",
        (day_start.date(), ForecastGrain.HOUR, day_start, day_start + timedelta(days=1)),
    ).fetchall()
    return pd.DataFrame(rows, columns=["channel", "period_at", "yhat", "yhat_lower", "yhat_upper"])


def arrivals_since(conn: psycopg.Connection, since: datetime, until: datetime) -> dict[str, float]:
    """Tickets created per channel in [since, until), straight from raw (the marts are nightly)."""
    rows = conn.execute(
        "SELECT payload ->> 'channel', count(*) FROM raw.ticket_events WHERE event_type = 'ticket.created'"
        " AND occurred_at >= %s AND occurred_at < %s GROUP BY 1",
        (since, until),
    ).fetchall()
    return {str(channel): float(count) for channel, count in rows}


def channel_forecast(conn: psycopg.Connection, run_date: date) -> pd.DataFrame:
    """The run's hourly forecast per channel: columns channel, period_at, yhat."""
    rows = conn.execute(
        "SELECT queue, period_at, yhat FROM marts.ticket_volume_forecast"
        " WHERE run_date = %s AND queue_type = 'channel' AND grain = %s ORDER BY queue, period_at",
        (run_date, ForecastGrain.HOUR),
    ).fetchall()
    return pd.DataFrame(rows, columns=["channel", "period_at", "yhat"])
