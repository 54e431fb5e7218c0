"""A seeded synthetic warehouse (marts and live rows) for demos without history, tests and benchmarks.

Creates the marts tables the dashboard reads with the columns it reads (when dbt and the nightly
batch have not created them) and fills them; the live tables get a current floor. Only for
throwaway databases: it writes where dbt and the stream would.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from cxa.deadletters import Refusal
from cxa.marts import ForecastGrain
from cxa.topics import TICKET_EVENTS

CHANNELS = ("email", "chat", "phone", "web", "social")
PRIORITIES = ("low", "normal", "high", "urgent")
CATEGORIES = ("card_payment", "transfer", "top_up", "refund", "account", "exchange_rate")
TEAMS = ("blue", "green", "red")
ABSTAINED = "abstained"

DDL = (
    """CREATE TABLE IF NOT EXISTS marts.ticket_analytics (
        ticket_id text PRIMARY KEY, customer_id text, channel text, priority text, category text, status text,
        created_at timestamptz, first_reply_minutes double precision, assigned_agent_id text,
        is_first_reply_breached boolean, is_resolution_breached boolean, csat_rating integer,
        is_satisfied boolean)""",
    """CREATE TABLE IF NOT EXISTS marts.ticket_volume_hourly (
        hour_at timestamptz, channel text, category text, tickets_created bigint,
        urgent_or_high_created bigint)""",
    """CREATE TABLE IF NOT EXISTS marts.agent_performance_metrics (
        agent_day_id text, agent_id text, activity_date date, team text, tickets_handled bigint,
        tickets_resolved bigint, first_replies bigint, first_reply_service_level double precision,
        avg_first_reply_minutes double precision, csat_responses bigint, csat_score double precision,
        logged_in_minutes double precision, handling_minutes double precision, occupancy double precision)""",
    """CREATE TABLE IF NOT EXISTS marts.customer_insights (
        customer_id text, segment text, plan text, region text, tickets_last_30d bigint,
        csat_score double precision, churn_risk_score integer, is_churn_risk boolean,
        lifetime_value double precision)""",
    """CREATE TABLE IF NOT EXISTS marts.categorizer_performance (
        activity_date date, source text, model_version text, predicted_category text, predictions bigint,
        abstentions bigint, labelled bigint, correct_predictions bigint, corrections bigint)""",
    """CREATE TABLE IF NOT EXISTS marts.categorizer_confusion (
        activity_date date, source text, true_category text, predicted_category text, tickets bigint)""",
    "CREATE INDEX IF NOT EXISTS categorizer_confusion_source_day ON marts.categorizer_confusion"
    " (source, activity_date)",
    """CREATE TABLE IF NOT EXISTS marts.ticket_volume_forecast (
        run_date date, run_at timestamptz, model_version text, method text, queue_type text, queue text,
        grain text, period_at timestamptz, yhat double precision, yhat_lower double precision,
        yhat_upper double precision, interval_width double precision)""",
    """CREATE TABLE IF NOT EXISTS marts.forecast_backtest (
        run_date date, queue_type text, queue text, grain text, method text, mape double precision,
        mase double precision, coverage double precision, beats_baseline boolean)""",
    """CREATE TABLE IF NOT EXISTS marts.staffing_requirements (
        run_date date, channel text, period_at timestamptz, agents_required integer,
        forecast_arrivals double precision)""",
    """CREATE TABLE IF NOT EXISTS marts.staffing_gap (
        run_date date, period_at timestamptz, hour_of_week integer, agents_required integer,
        agents_scheduled integer, agents_planned integer, gap integer)""",
)


def _copy(conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def seed_marts(conn: psycopg.Connection, days: int, tickets_per_day: int, end: date, seed: int = 7) -> int:
    """Fill the marts with ``days`` of history ending on ``end``; returns the number of tickets."""
    rng = np.random.default_rng(seed)
    for statement in DDL:
        conn.execute(statement)
    agents = [f"A{i:04d}" for i in range(40)]
    start = datetime.combine(end - timedelta(days=days - 1), datetime.min.time(), UTC)
    n = days * tickets_per_day
    created = start + timedelta(seconds=1) * np.sort(rng.uniform(0, days * 86400, n)).astype("int64")
    channel = rng.choice(CHANNELS, n, p=[0.35, 0.25, 0.15, 0.15, 0.10])
    priority = rng.choice(PRIORITIES, n, p=[0.3, 0.45, 0.18, 0.07])
    category = rng.choice(CATEGORIES, n)
    agent = rng.choice(agents, n)
    reply = rng.gamma(2.0, 30.0, n)
    breached = reply > 90
    rating = np.where(rng.random(n) < 0.3, rng.integers(1, 6, n), 0)
    rows = (
        (
            f"T{i:08d}",
            f"C{i % 5000:05d}",
            channel[i],
            priority[i],
            category[i],
            "solved" if rng.random() < 0.9 else "open",
            created[i],
            round(float(reply[i]), 1),
            agent[i],
            bool(breached[i]),
            bool(breached[i] and reply[i] > 120),
            int(rating[i]) or None,
            bool(rating[i] >= 4) if rating[i] else None,
        )
        for i in range(n)
    )
    columns = (
        "ticket_id",
        "customer_id",
        "channel",
        "priority",
        "category",
        "status",
        "created_at",
        "first_reply_minutes",
        "assigned_agent_id",
        "is_first_reply_breached",
        "is_resolution_breached",
        "csat_rating",
        "is_satisfied",
    )
    _copy(conn, "marts.ticket_analytics", columns, rows)
    conn.execute(
        "INSERT INTO marts.ticket_volume_hourly SELECT date_trunc('hour', created_at), channel, category,"
        " count(*), count(*) FILTER (WHERE priority IN ('urgent', 'high')) FROM marts.ticket_analytics"
        " GROUP BY 1, 2, 3"
    )
    conn.execute(
        "INSERT INTO marts.agent_performance_metrics SELECT t.assigned_agent_id || d::text,"
        " t.assigned_agent_id, d,"
        " (ARRAY['blue', 'green', 'red'])[1 + abs(hashtext(t.assigned_agent_id)) % 3], count(*),"
        " count(*) FILTER (WHERE status = 'solved'), count(*), avg((NOT is_first_reply_breached)::int),"
        " avg(first_reply_minutes), count(csat_rating), avg(is_satisfied::int), 480, 300 + random() * 150,"
        " 0.6 + random() * 0.35 FROM marts.ticket_analytics t, LATERAL (SELECT (created_at AT TIME ZONE"
        " 'UTC')::date AS d) x GROUP BY t.assigned_agent_id, d"
    )
    conn.execute(
        "INSERT INTO marts.customer_insights SELECT customer_id,"
        " (ARRAY['consumer', 'smb', 'enterprise'])[1 + abs(hashtext(customer_id)) %% 3],"
        " (ARRAY['free', 'plus', 'premium'])[1 + abs(hashtext(customer_id || 'p')) %% 3],"
        " (ARRAY['emea', 'amer', 'apac'])[1 + abs(hashtext(customer_id || 'r')) %% 3],"
        " count(*) FILTER (WHERE created_at > %s::timestamptz - interval '30 days'), avg(is_satisfied::int),"
        " (abs(hashtext(customer_id)) %% 4), (abs(hashtext(customer_id)) %% 4) >= 2, 100 +"
        " abs(hashtext(customer_id)) %% 5000"
        " FROM marts.ticket_analytics GROUP BY customer_id",
        (datetime.combine(end, datetime.min.time(), UTC),),
    )
    _seed_categorizer(conn, pd.to_datetime(created).date, category, rng)
    _seed_forecasts(conn, end, rng)
    return n


def _seed_categorizer(
    conn: psycopg.Connection, days: np.ndarray, truth: np.ndarray, rng: np.random.Generator
) -> None:
    """Both categorizer marts from one draw per ticket and source, so they agree as dbt's do.

    Every ticket is labelled; the model abstains on 5%; a source is right 88% of the time, and a
    wrong answer is mostly the next category, so the confusion matrix has a visible pattern.
    """
    codes = pd.Categorical(truth, categories=list(CATEGORIES)).codes
    frames = []
    for source in ("model", "first_guess"):
        draw = rng.random(len(truth))
        step = np.where(rng.random(len(truth)) < 0.7, 1, rng.integers(2, len(CATEGORIES), len(truth)))
        predicted = np.where(draw < 0.88, truth, np.asarray(CATEGORIES)[(codes + step) % len(CATEGORIES)])
        if source == "model":
            predicted = np.where(draw >= 0.95, ABSTAINED, predicted)
        frames.append(
            pd.DataFrame(
                {"activity_date": days, "true_category": truth, "predicted_category": predicted}
            ).assign(source=source)
        )
    confusion = (
        pd.concat(frames)
        .groupby(["activity_date", "source", "true_category", "predicted_category"])
        .size()
        .rename("tickets")
        .reset_index()
    )
    _copy(conn, "marts.categorizer_confusion", list(confusion.columns), _python_rows(confusion))
    is_abstained = confusion["predicted_category"] == ABSTAINED
    performance = (
        confusion.assign(
            model_version=np.where(confusion["source"] == "model", "v1", "n/a"),
            predictions=confusion["tickets"],
            abstentions=confusion["tickets"].where(is_abstained, 0),
            labelled=confusion["tickets"].where(~is_abstained, 0),
            correct_predictions=confusion["tickets"].where(
                confusion["predicted_category"] == confusion["true_category"], 0
            ),
        )
        .groupby(["activity_date", "source", "model_version", "predicted_category"])[
            ["predictions", "abstentions", "labelled", "correct_predictions"]
        ]
        .sum()
        .reset_index()
    )
    performance["corrections"] = performance["labelled"] - performance["correct_predictions"]
    _copy(conn, "marts.categorizer_performance", list(performance.columns), _python_rows(performance))


def _python_rows(frame: pd.DataFrame) -> Iterable[tuple[Any, ...]]:
    """Rows of plain Python values (COPY does not adapt numpy scalars)."""
    return frame.astype(object).itertuples(index=False, name=None)


def _seed_forecasts(conn: psycopg.Connection, end: date, rng: np.random.Generator) -> None:
    run_at = datetime.combine(end, datetime.min.time(), UTC)
    rows: list[tuple[Any, ...]] = []
    for queue_type, queues in (("channel", CHANNELS), ("category", CATEGORIES)):
        for queue in queues:
            for day in range(-28, 14):
                at = run_at + timedelta(days=day)
                level = 60 + 20 * (at.weekday() < 5) + float(rng.normal(0, 3))
                rows.append(
                    (
                        end,
                        run_at,
                        "v1",
                        "ensemble",
                        queue_type,
                        queue,
                        ForecastGrain.DAY,
                        at,
                        level,
                        level * 0.8,
                        level * 1.2,
                        0.8,
                    )
                )
            for hour in range(-48, 24 * 14):
                at = run_at + timedelta(hours=hour)
                level = 3 + 2 * np.sin((at.hour - 6) / 24 * 2 * np.pi) + float(rng.normal(0, 0.3))
                rows.append(
                    (
                        end,
                        run_at,
                        "v1",
                        "ensemble",
                        queue_type,
                        queue,
                        ForecastGrain.HOUR,
                        at,
                        max(level, 0.1),
                        max(level * 0.6, 0.0),
                        level * 1.4 + 1,
                        0.8,
                    )
                )
    columns = (
        "run_date",
        "run_at",
        "model_version",
        "method",
        "queue_type",
        "queue",
        "grain",
        "period_at",
        "yhat",
        "yhat_lower",
        "yhat_upper",
        "interval_width",
    )
    _copy(conn, "marts.ticket_volume_forecast", columns, rows)
    backtest = [
        (
            end,
            queue_type,
            queue,
            ForecastGrain.DAY,
            method,
            float(rng.uniform(0.08, 0.3)),
            float(rng.uniform(0.5, 1.2)),
            float(rng.uniform(0.7, 0.9)),
            method != "seasonal_naive",
        )
        for queue_type, queues in (("channel", CHANNELS), ("category", CATEGORIES))
        for queue in queues
        for method in ("prophet", "seasonal_naive", "ensemble")
    ]
    _copy(
        conn,
        "marts.forecast_backtest",
        ("run_date", "queue_type", "queue", "grain", "method", "mape", "mase", "coverage", "beats_baseline"),
        backtest,
    )
    gap = []
    requirements = []
    for hour in range(24 * 7):
        at = run_at + timedelta(hours=hour)
        required = int(
            max(2, 14 + 10 * np.sin((at.hour - 8) / 24 * 2 * np.pi)) * (1 if at.weekday() < 5 else 0.4)
        )
        scheduled = 12 if 7 <= at.hour <= 19 and at.weekday() < 5 else 3
        gap.append((end, at, hour, required, scheduled, required + 1, required - scheduled))
        for channel in CHANNELS:
            requirements.append((end, channel, at, max(1, required // 5), required * 3.0))
    _copy(
        conn,
        "marts.staffing_gap",
        (
            "run_date",
            "period_at",
            "hour_of_week",
            "agents_required",
            "agents_scheduled",
            "agents_planned",
            "gap",
        ),
        gap,
    )
    _copy(
        conn,
        "marts.staffing_requirements",
        ("run_date", "channel", "period_at", "agents_required", "forecast_arrivals"),
        requirements,
    )


def write_floor(conn: psycopg.Connection, now: datetime, waiting: int, seed: int = 7) -> None:
    """Rewrite the live tables as the stream worker would, as of ``now``."""
    rng = np.random.default_rng(seed + waiting)
    conn.execute(
        "INSERT INTO live.floor_summary (floor_id, updated_at, last_event_at, waiting, backlog,"
        " oldest_waiting_at,"
        " arrivals_last_minute, arrivals_last_hour, at_risk, agents_online, agents_away, agents_offline,"
        " csat_positive_today, csat_total_today) VALUES (1, %s, %s, %s, %s, %s, 3, 142, 4, 31, 5, 12, 88,"
        " 104)"
        " ON CONFLICT (floor_id) DO UPDATE SET updated_at = EXCLUDED.updated_at, last_event_at ="
        " EXCLUDED.last_event_at, waiting = EXCLUDED.waiting, backlog = EXCLUDED.backlog,"
        " oldest_waiting_at = EXCLUDED.oldest_waiting_at",
        (now, now, waiting, waiting * 6, now - timedelta(minutes=17)),
    )
    conn.execute("DELETE FROM live.queue_depth")
    _copy(
        conn,
        "live.queue_depth",
        ("category", "priority", "waiting", "oldest_created_at", "updated_at"),
        [
            (c, p, int(rng.integers(0, 1 + waiting // 8)), now - timedelta(minutes=5), now)
            for c in CATEGORIES
            for p in PRIORITIES
        ],
    )
    conn.execute("DELETE FROM live.sla_at_risk")
    _copy(
        conn,
        "live.sla_at_risk",
        (
            "ticket_id",
            "priority",
            "category",
            "channel",
            "agent_id",
            "created_at",
            "due_at",
            "minutes_left",
            "updated_at",
        ),
        [
            (
                f"T9{i:06d}",
                PRIORITIES[3 - i % 2],
                CATEGORIES[i % 6],
                CHANNELS[i % 5],
                None,
                now - timedelta(minutes=50),
                now + timedelta(minutes=2 * i),
                2.0 * i,
                now,
            )
            for i in range(6)
        ],
    )
    conn.execute("DELETE FROM live.agent_load")
    _copy(
        conn,
        "live.agent_load",
        ("agent_id", "status", "load", "capacity", "handled_today", "updated_at"),
        [(f"A{i:04d}", ("online", "online", "away", "offline")[i % 4], i % 3, 3, i, now) for i in range(48)],
    )
    conn.execute(
        "INSERT INTO live.routing_feed (event_id, decided_at, ticket_id, agent_id, policy, score, reason)"
        " SELECT gen_random_uuid(), %s - (g || ' seconds')::interval, 'T8' || lpad(g::text, 6, '0'),"
        " 'A' || lpad((g %% 40)::text, 4, '0'), 'optimal', 0.5 + g / 100.0, 'best skill match'"
        " FROM generate_series(1, 8) g",
        (now,),
    )
    conn.execute(
        "INSERT INTO live.categorizer_quality (measured_at, worker, model_version, labelled,"
        " rolling_accuracy,"
        " rolling_coverage, error_rate) VALUES (%s, 'w1', 'v1', 5000, 0.9, 0.95, 0.1)"
        " ON CONFLICT DO NOTHING",
        (now,),
    )
    conn.execute(
        "INSERT INTO live.categorizer_categories (category, true_positives, false_positives, false_negatives)"
        " SELECT c, 90 + length(c), 10, 5 + length(c) FROM unnest(%s::text[]) c ON CONFLICT (category) DO"
        " NOTHING",
        (list(CATEGORIES),),
    )


DEADLETTER_COLUMNS = (
    "origin_topic",
    "origin_partition",
    "origin_offset",
    "kind",
    "reason",
    "message_key",
    "message_value",
    "value_bytes",
    "is_truncated",
    "dead_lettered_at",
)


def write_deadletters(conn: psycopg.Connection, letters: Sequence[tuple[Refusal, datetime]]) -> None:
    """Append dead letters of these kinds at these times, as the stream worker records refused
    ticket events (on partition 0 of tickets.events, after the offsets already there)."""
    row = conn.execute(
        "SELECT coalesce(max(origin_offset) + 1, 0) FROM live.deadletters"
        " WHERE origin_topic = %s AND origin_partition = 0",
        (TICKET_EVENTS,),
    ).fetchone()
    rows = []
    for offset, (kind, at) in enumerate(letters, start=int(row[0]) if row else 0):
        key = f"T7{offset:06d}".encode()
        value = b'{"ticket_id": "%s"}' % key
        reason = f"synthetic {kind.value}"
        rows.append((TICKET_EVENTS, 0, offset, kind.value, reason, key, value, len(value), False, at))
    _copy(conn, "live.deadletters", DEADLETTER_COLUMNS, rows)
