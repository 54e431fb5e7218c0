"""Queries of the dashboard: the ``live`` and ``marts`` schemas only, returned as DataFrames.

A table that exists but holds nothing reads as an empty frame (a page says "no data yet"); a table
that does not exist is :class:`MissingTable`, which the app shows as an error naming the fix.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import psycopg
from psycopg_pool import ConnectionPool

from cxa.marts import ForecastGrain
from dash_app.filters import DIMENSIONS, TicketFilter

FLOOR_COLUMNS = [
    "updated_at",
    "last_event_at",
    "waiting",
    "backlog",
    "oldest_waiting_at",
    "arrivals_last_minute",
    "arrivals_last_hour",
    "at_risk",
    "agents_online",
    "agents_away",
    "agents_offline",
    "csat_positive_today",
    "csat_total_today",
]


@dataclass(frozen=True)
class FloorSnapshot:
    """Everything the wall board shows, read in one go."""

    summary: pd.DataFrame
    queues: pd.DataFrame
    at_risk: pd.DataFrame
    agents: pd.DataFrame
    routing: pd.DataFrame
    categorizer: pd.DataFrame
    deadletters: pd.DataFrame
    hour_forecast: float | None
    read_at: datetime


class MissingTable(RuntimeError):
    """A table the dashboard reads does not exist: the database is not migrated, or the nightly job
    has not built the marts yet."""

    def __init__(self, relation: str) -> None:
        fix = (
            "run the nightly job (`cxa batch nightly`), which builds the marts"
            if "marts." in relation
            else "run `cxa migrate`"
        )
        super().__init__(f"{relation} does not exist: {fix}")


class Warehouse:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def frame(self, sql: str, params: list[Any] | tuple[Any, ...], columns: list[str]) -> pd.DataFrame:
        with self._pool.connection() as conn:
            try:
                with conn.transaction():
                    rows = conn.execute(sql, params).fetchall()
            except psycopg.errors.UndefinedTable as exc:
                primary = exc.diag.message_primary or str(exc)
                raise MissingTable(primary.removeprefix("relation ").removesuffix(" does not exist")) from exc
        return pd.DataFrame(rows, columns=columns)

    # --- live -------------------------------------------------------------------------------
    def floor(self) -> FloorSnapshot:
        now = self.frame("SELECT now()", (), ["now"])["now"].iloc[0]
        # The nightly forecast of this hour, revised by today's arrivals when `cxa batch reforecast` ran.
        forecast = self.frame(
            "SELECT sum(f.yhat * coalesce(i.ratio, 1)) FROM marts.ticket_volume_forecast f"
            " LEFT JOIN marts.intraday_forecast i ON i.channel = f.queue AND i.period_at = f.period_at"
            " AND i.run_date = (now() AT TIME ZONE 'UTC')::date"
            " WHERE f.grain = %s AND f.queue_type = 'channel' AND f.period_at = date_trunc('hour', now())"
            " AND f.run_date = (SELECT max(run_date) FROM marts.ticket_volume_forecast)",
            (ForecastGrain.HOUR,),
            ["yhat"],
        )
        value = forecast["yhat"].iloc[0] if len(forecast) else None
        return FloorSnapshot(
            summary=self.frame(
                f"SELECT {', '.join(FLOOR_COLUMNS)} FROM live.floor_summary", (), FLOOR_COLUMNS
            ),
            queues=self.frame(
                "SELECT category, priority, waiting, oldest_created_at FROM live.queue_depth"
                " WHERE waiting > 0",
                (),
                ["category", "priority", "waiting", "oldest_created_at"],
            ),
            at_risk=self.frame(
                "SELECT ticket_id, priority, category, channel, agent_id, minutes_left FROM live.sla_at_risk"
                " ORDER BY minutes_left LIMIT 12",
                (),
                ["ticket_id", "priority", "category", "channel", "agent_id", "minutes_left"],
            ),
            agents=self.frame(
                "SELECT status, count(*), sum(load), sum(capacity) FROM live.agent_load GROUP BY status",
                (),
                ["status", "agents", "load", "capacity"],
            ),
            routing=self.frame(
                "SELECT decided_at, ticket_id, agent_id, policy, score FROM live.routing_feed"
                " ORDER BY decided_at DESC LIMIT 8",
                (),
                ["decided_at", "ticket_id", "agent_id", "policy", "score"],
            ),
            categorizer=self.frame(
                "SELECT measured_at, rolling_accuracy, rolling_coverage FROM live.categorizer_quality"
                " ORDER BY measured_at DESC LIMIT 1",
                (),
                ["measured_at", "rolling_accuracy", "rolling_coverage"],
            ),
            deadletters=self.deadletter_counts(),
            hour_forecast=None if value is None or pd.isna(value) else float(value),
            read_at=now,
        )

    def deadletter_counts(self) -> pd.DataFrame:
        """Dead letters per kind in the last hour and since midnight (UTC), read as of now."""
        return self.frame(
            "SELECT kind, count(*) FILTER (WHERE dead_lettered_at >= now() - interval '1 hour'),"
            " count(*) FILTER (WHERE dead_lettered_at >= date_trunc('day', now(), 'UTC'))"
            " FROM live.deadletters"
            " WHERE dead_lettered_at >= least(now() - interval '1 hour', date_trunc('day', now(), 'UTC'))"
            " GROUP BY kind ORDER BY 3 DESC, 2 DESC, 1",
            (),
            ["kind", "last_hour", "today"],
        )

    def categorizer_quality(self, since: datetime) -> pd.DataFrame:
        return self.frame(
            "SELECT measured_at, worker, labelled, rolling_accuracy, rolling_coverage, error_rate"
            " FROM live.categorizer_quality WHERE measured_at >= %s ORDER BY measured_at",
            (since,),
            ["measured_at", "worker", "labelled", "rolling_accuracy", "rolling_coverage", "error_rate"],
        )

    def categorizer_categories(self) -> pd.DataFrame:
        return self.frame(
            "SELECT category, true_positives, false_positives, false_negatives, precision, recall"
            " FROM live.categorizer_categories ORDER BY category",
            (),
            ["category", "true_positives", "false_positives", "false_negatives", "precision", "recall"],
        )

    def drift_alarms(self, limit: int = 50) -> pd.DataFrame:
        return self.frame(
            "SELECT detected_at, worker, model_version, labelled, error_rate, window_size"
            " FROM live.categorizer_drift_alarms ORDER BY detected_at DESC LIMIT %s",
            (limit,),
            ["detected_at", "worker", "model_version", "labelled", "error_rate", "window_size"],
        )

    # --- marts ------------------------------------------------------------------------------
    def filter_options(self) -> dict[str, Any]:
        queues = self.frame(
            "SELECT array_agg(DISTINCT channel), array_agg(DISTINCT category), max(hour_at)"
            " FROM marts.ticket_volume_hourly",
            (),
            ["channels", "categories", "last"],
        )
        teams = self.frame(
            "SELECT DISTINCT team FROM marts.agent_performance_metrics WHERE team IS NOT NULL ORDER BY 1",
            (),
            ["team"],
        )
        row = queues.iloc[0] if len(queues) else None
        last = row["last"] if row is not None and row["last"] is not None else None
        return {
            "channels": sorted(row["channels"] or []) if row is not None else [],
            "categories": sorted(row["categories"] or []) if row is not None else [],
            "teams": list(teams["team"]),
            "last_day": last.date() if isinstance(last, datetime) else datetime.now(UTC).date(),
        }

    def volume_daily(self, f: TicketFilter) -> pd.DataFrame:
        if f.team:
            where, params = f.where()
            return self.frame(
                "SELECT (created_at AT TIME ZONE 'UTC')::date, channel, count(*)"
                f" FROM marts.ticket_analytics WHERE {where} GROUP BY 1, 2 ORDER BY 1",
                params,
                ["day", "channel", "tickets"],
            )
        where, params = TicketFilter(f.start, f.end, f.categories, f.channels).where("hour_at")
        return self.frame(
            "SELECT (hour_at AT TIME ZONE 'UTC')::date, channel, sum(tickets_created)::bigint"
            f" FROM marts.ticket_volume_hourly WHERE {where} GROUP BY 1, 2 ORDER BY 1",
            params,
            ["day", "channel", "tickets"],
        )

    def sla_by(self, f: TicketFilter, dimension: str) -> pd.DataFrame:
        if dimension not in DIMENSIONS:
            raise ValueError(f"unknown dimension {dimension!r}")
        where, params = f.where()
        return self.frame(
            f"SELECT coalesce({dimension}, 'none'), count(*),"
            " avg((NOT is_first_reply_breached)::integer), avg((NOT is_resolution_breached)::integer),"
            " avg(is_satisfied::integer), count(csat_rating)"
            f" FROM marts.ticket_analytics WHERE {where} GROUP BY 1 ORDER BY 2 DESC LIMIT 40",
            params,
            ["key", "tickets", "first_reply_sl", "resolution_sl", "csat", "csat_responses"],
        )

    def tickets(
        self, f: TicketFilter, dimension: str | None = None, value: str | None = None, limit: int = 500
    ) -> pd.DataFrame:
        where, params = f.where()
        if dimension is not None and value is not None:
            if dimension not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dimension!r}")
            where += f" AND coalesce({dimension}, 'none') = %s"
            params.append(value)
        return self.frame(
            "SELECT ticket_id, created_at, channel, priority, category, status, assigned_agent_id,"
            " round(first_reply_minutes::numeric, 1), is_first_reply_breached, is_resolution_breached,"
            f" csat_rating FROM marts.ticket_analytics WHERE {where} ORDER BY created_at DESC LIMIT %s",
            [*params, limit],
            [
                "ticket_id",
                "created_at",
                "channel",
                "priority",
                "category",
                "status",
                "agent_id",
                "first_reply_minutes",
                "first_reply_breached",
                "resolution_breached",
                "csat",
            ],
        )

    def agent_performance(self, f: TicketFilter) -> pd.DataFrame:
        params: list[Any] = [f.start, f.end]
        team = ""
        if f.team:
            team = " AND team = %s"
            params.append(f.team)
        return self.frame(
            "SELECT agent_id, max(team), sum(tickets_handled)::bigint, sum(tickets_resolved)::bigint,"
            " sum(first_reply_service_level * first_replies) / nullif(sum(first_replies), 0),"
            " sum(avg_first_reply_minutes * first_replies) / nullif(sum(first_replies), 0),"
            " sum(csat_score * csat_responses) / nullif(sum(csat_responses), 0),"
            " sum(handling_minutes) / nullif(sum(logged_in_minutes), 0) / 1.0, avg(occupancy)"
            " FROM marts.agent_performance_metrics WHERE activity_date BETWEEN %s AND %s"
            f"{team} GROUP BY agent_id ORDER BY 3 DESC",
            params,
            [
                "agent_id",
                "team",
                "tickets_handled",
                "tickets_resolved",
                "first_reply_sl",
                "avg_first_reply_minutes",
                "csat",
                "handling_ratio",
                "occupancy",
            ],
        )

    def customer_segments(self) -> pd.DataFrame:
        return self.frame(
            "SELECT segment, plan, count(*), sum(tickets_last_30d)::bigint, avg(csat_score),"
            " avg(is_churn_risk::integer), avg(lifetime_value)"
            " FROM marts.customer_insights GROUP BY 1, 2 ORDER BY 1, 2",
            (),
            ["segment", "plan", "customers", "tickets_last_30d", "csat", "churn_risk_share", "avg_ltv"],
        )

    def churn_risk_customers(self, limit: int = 200) -> pd.DataFrame:
        return self.frame(
            "SELECT customer_id, segment, plan, region, tickets_last_30d, round(csat_score::numeric, 2),"
            " churn_risk_score, round(lifetime_value::numeric, 0) FROM marts.customer_insights"
            " WHERE is_churn_risk ORDER BY churn_risk_score DESC, lifetime_value DESC LIMIT %s",
            (limit,),
            [
                "customer_id",
                "segment",
                "plan",
                "region",
                "tickets_last_30d",
                "csat",
                "churn_risk_score",
                "lifetime_value",
            ],
        )

    def forecast_queues(self) -> pd.DataFrame:
        return self.frame(
            "SELECT queue_type, queue FROM (SELECT DISTINCT queue_type, queue"
            " FROM marts.ticket_volume_forecast"
            " WHERE run_date = (SELECT max(run_date) FROM marts.ticket_volume_forecast)) q"
            " ORDER BY queue_type = 'category', lower(queue), queue",  # channels, then categories A-Z
            (),
            ["queue_type", "queue"],
        )

    def forecast(self, queue_type: str, queue: str, grain: ForecastGrain) -> pd.DataFrame:
        return self.frame(
            "SELECT period_at, yhat, yhat_lower, yhat_upper, interval_width FROM marts.ticket_volume_forecast"
            " WHERE run_date = (SELECT max(run_date) FROM marts.ticket_volume_forecast)"
            " AND queue_type = %s AND queue = %s AND grain = %s ORDER BY period_at",
            (queue_type, queue, grain),
            ["period_at", "yhat", "yhat_lower", "yhat_upper", "interval_width"],
        )

    def actual_volume(
        self, queue_type: str, queue: str, grain: ForecastGrain, since: datetime
    ) -> pd.DataFrame:
        column = "channel" if queue_type == "channel" else "category"
        bucket = (
            "hour_at"
            if grain is ForecastGrain.HOUR
            else "date_trunc('day', hour_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        )
        return self.frame(
            f"SELECT {bucket}, sum(tickets_created)::bigint FROM marts.ticket_volume_hourly"
            f" WHERE {column} = %s AND hour_at >= %s GROUP BY 1 ORDER BY 1",
            (queue, since),
            ["period_at", "actual"],
        )

    def backtest(self) -> pd.DataFrame:
        return self.frame(
            "SELECT queue_type, queue, grain, method, is_chosen, mape, mase, coverage, interval_factor,"
            " calibrated_coverage, beats_baseline, fit_seconds FROM marts.forecast_backtest"
            " WHERE run_date = (SELECT max(run_date) FROM marts.forecast_backtest) ORDER BY 1, 2, 3, 4",
            (),
            [
                "queue_type",
                "queue",
                "grain",
                "method",
                "chosen",
                "mape",
                "mase",
                "coverage",
                "interval_factor",
                "calibrated_coverage",
                "beats_baseline",
                "fit_seconds",
            ],
        )

    def staffing_gap(self) -> pd.DataFrame:
        """The latest nightly gap per hour, today's remaining hours revised by the reforecast."""
        columns = [
            "period_at", "agents_required", "agents_scheduled", "agents_planned", "gap",
            "agents_required_nightly", "revised_at",
        ]  # fmt: skip
        return self.frame(
            f"SELECT {', '.join(columns)} FROM marts.staffing_gap_revised ORDER BY period_at", (), columns
        )

    def intraday(self) -> pd.DataFrame:
        """Today's latest revision per channel: how the day runs against the nightly forecast, the
        tickets from this hour to midnight revised and nightly, and the agents needed this hour."""
        return self.frame(
            "SELECT channel, max(run_at), min(ratio), min(arrivals_so_far)::bigint,"
            " round(min(forecast_so_far))::bigint, round(sum(yhat))::bigint,"
            " round(sum(nightly_yhat))::bigint, (array_agg(agents_required ORDER BY period_at))[1]"
            " FROM marts.intraday_forecast"
            " WHERE run_date = (SELECT max(run_date) FROM marts.intraday_forecast) GROUP BY 1 ORDER BY 1",
            (),
            [
                "channel",
                "revised_at",
                "ratio",
                "arrivals_so_far",
                "forecast_so_far",
                "to_midnight_revised",
                "to_midnight_nightly",
                "agents_needed_this_hour",
            ],
        )

    def staffing_by_channel(self) -> pd.DataFrame:
        return self.frame(
            "SELECT period_at, channel, agents_required, forecast_arrivals FROM marts.staffing_requirements"
            " WHERE run_date = (SELECT max(run_date) FROM marts.staffing_requirements)"
            " ORDER BY period_at, channel",
            (),
            ["period_at", "channel", "agents_required", "forecast_arrivals"],
        )

    def categorizer_daily(self, f: TicketFilter) -> pd.DataFrame:
        return self.frame(
            "SELECT activity_date, source, sum(labelled)::bigint, sum(correct_predictions)::bigint,"
            " sum(abstentions)::bigint, sum(predictions)::bigint FROM marts.categorizer_performance"
            " WHERE activity_date BETWEEN %s AND %s GROUP BY 1, 2 ORDER BY 1",
            (f.start, f.end),
            ["day", "source", "labelled", "correct", "abstentions", "predictions"],
        )

    def categorizer_confusion(self, f: TicketFilter, source: str = "model") -> pd.DataFrame:
        """Labelled tickets per true and predicted category in the date range, for one source."""
        return self.frame(
            "SELECT true_category, predicted_category, sum(tickets)::bigint FROM marts.categorizer_confusion"
            " WHERE source = %s AND activity_date BETWEEN %s AND %s GROUP BY 1, 2",
            (source, f.start, f.end),
            ["true_category", "predicted_category", "tickets"],
        )
