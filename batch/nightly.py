"""The nightly job: dbt build, then forecasts (with backtests), then staffing, timed step by step.

Each step is a function of (database URL, settings, as_of) so that the command line and the
Airflow DAG run exactly the same code. Every step is safe to repeat: dbt models are rebuilt or
merged incrementally, and forecast and staffing rows are replaced per run date.
"""

import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg

from batch import store, transform
from batch.backtest import BASELINE, BacktestReport, calibrate, rolling_origin
from batch.forecast import AUTO, ForecastConfig, forecast, model_version, regular_series, season_length
from batch.settings import BatchSettings
from batch.shift_plan import HOURS_PER_WEEK, plan_shifts
from batch.staffing import Targets, channel_needs
from cxa import db
from cxa.marts import UNCATEGORIZED, ForecastGrain

log = logging.getLogger(__name__)

HOURLY_HISTORY_DAYS = 56  # eight weeks: enough for the weekly and daily shape, fast to fit
QUEUE_TYPES = ("channel", "category")
PROGRESS_SECONDS = 15.0
"""How often the forecasts step says how far it is (each series' choice is logged at DEBUG and
stored in marts.forecast_backtest)."""
MIN_HISTORY_DAYS = 14  # two weeks: the seasonal-naive part needs one, its interval another


class StepFailed(RuntimeError):
    def __init__(self, step: str, cause: BaseException) -> None:
        super().__init__(f"step {step!r} failed: {cause}")
        self.step = step
        self.cause = cause


@dataclass(frozen=True)
class StepResult:
    step: str
    seconds: float
    summary: str


Step = Callable[[str, BatchSettings, datetime], str]


def dbt_step(database_url: str, settings: BatchSettings, as_of: datetime) -> str:
    """dbt build: seeds, models and tests, with breaches measured at ``as_of``."""
    result = transform.build(database_url, settings, dbt_vars=f"{{as_of: '{as_of.isoformat()}'}}")
    done = [line for line in result.output.splitlines() if "Done. PASS=" in line]
    return done[-1].split("Done. ", 1)[-1].strip() if done else "dbt build done"


def history_end(conn_last_hour: datetime | None, as_of: datetime) -> datetime:
    """End (exclusive) of the hourly history: the last complete hour, or after the data's last hour."""
    now_hour = as_of.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if conn_last_hour is None:
        return now_hour
    return min(now_hour, conn_last_hour.astimezone(UTC) + timedelta(hours=1))


@dataclass(frozen=True)
class Chosen:
    """One series and grain's forecast, the method it came from and why, and the backtest behind it."""

    method: str
    reason: str
    predicted: pd.DataFrame
    report: BacktestReport | None


def forecast_series(
    series: pd.Series, horizon: int, config: ForecastConfig, settings: BatchSettings
) -> Chosen:
    """Backtest the candidates (or the configured method and the baseline) on ``series`` at rolling
    origins one week apart, then forecast with the configured method or, for ``auto``, the winner."""
    week = season_length(config.freq)
    method = settings.forecast_method
    methods = settings.candidates() if method == AUTO else (method, BASELINE)
    try:
        report = rolling_origin(
            series, min(horizon, week), config, folds=settings.backtest_folds, step=week, methods=methods
        )
    except ValueError as exc:  # too short to backtest
        chosen = BASELINE if method == AUTO else method
        return Chosen(chosen, f"no backtest ({exc})", forecast(series, horizon, config, chosen), None)
    chosen = report.best.method if method == AUTO else method
    reason = report.reason if method == AUTO else f"set by CXA_FORECAST_METHOD; {report.reason}"
    predicted = forecast(series, horizon, config, chosen)
    score = next((score for score in report.scores if score.method == chosen), None)
    if score is None or math.isnan(score.interval_factor):
        reason += "; interval as the method gives it (its backtest cannot calibrate it)"
        return Chosen(chosen, reason, predicted, report)
    factor = score.interval_factor
    reason += f"; interval x{factor:.2f} to cover {config.interval_width:.0%} of the backtest's actuals"
    return Chosen(chosen, reason, calibrate(predicted, factor), report)


def queue_histories(
    conn: psycopg.Connection, queue_type: str, since: datetime, end: datetime
) -> dict[str, pd.Series]:
    """Each queue's hourly tickets created from ``since`` to ``end`` (exclusive), gap-free, from
    the day of the queue's first ticket (no leading zeros for a queue that began later)."""
    histories: dict[str, pd.Series] = {}
    for queue, rows in store.hourly_volume(conn, queue_type, since, end).groupby("queue"):
        counts = pd.Series(rows["tickets"].to_numpy(), index=pd.DatetimeIndex(rows["hour_at"]))
        first_day = max(pd.Timestamp(since), counts.index.min().floor("D"))
        last_hour = pd.Timestamp(end) - pd.Timedelta(hours=1)
        histories[str(queue)] = regular_series(counts, "h", start=first_day, end=last_hour)
    return histories


def forecast_step(database_url: str, settings: BatchSettings, as_of: datetime) -> str:
    """Forecasts per queue at hourly and daily grain, each with the method its backtest chose."""
    run_at = datetime.now(UTC)
    run_date = as_of.astimezone(UTC).date()
    config = ForecastConfig(
        freq="D",
        interval_width=settings.forecast_interval_width,
        uncertainty_samples=settings.forecast_uncertainty_samples,
        holidays_country=settings.forecast_holidays_country or None,
    )
    hourly_config = ForecastConfig(**{**config.__dict__, "freq": "h"})
    db.require_migrated(database_url)
    with db.connect(database_url) as conn:
        end = history_end(store.last_volume_hour(conn), as_of)
        day_end = end.replace(hour=0)  # daily series: complete days only
        since = day_end - timedelta(days=settings.forecast_history_days)
        forecasts: list[tuple[object, ...]] = []
        backtests: list[tuple[object, ...]] = []
        skipped: list[str] = []
        chosen: Counter[str] = Counter()
        for queue_type in QUEUE_TYPES:
            histories = queue_histories(conn, queue_type, since, end)
            started = said = time.perf_counter()
            if queue_type == "category":
                histories.pop(UNCATEGORIZED, None)  # the labelling backlog, not a queue
            for done, (queue, hourly) in enumerate(histories.items()):
                if time.perf_counter() - said >= PROGRESS_SECONDS:
                    said = time.perf_counter()
                    log.info("forecasts: %s %d/%d (%.0f s)", queue_type, done, len(histories), said - started)
                daily = hourly[hourly.index < pd.Timestamp(day_end)].resample("D").sum()
                recent = hourly[hourly.index >= pd.Timestamp(end) - pd.Timedelta(days=HOURLY_HISTORY_DAYS)]
                if len(daily) < MIN_HISTORY_DAYS:
                    log.warning(
                        "%s %s: %d days of history, too few to forecast", queue_type, queue, len(daily)
                    )
                    skipped.append(f"{queue_type}:{queue}")
                    continue
                for grain, series, horizon, grain_config in (
                    (ForecastGrain.HOUR, recent, settings.forecast_horizon_days * 24, hourly_config),
                    (ForecastGrain.DAY, daily, settings.forecast_horizon_days, config),
                ):
                    result = forecast_series(series, horizon, grain_config, settings)
                    version = model_version(result.method)
                    chosen[result.method] += 1
                    log.debug("%s %s %s: %s, %s", queue_type, queue, grain, result.method, result.reason)
                    forecasts += [
                        (
                            run_date,
                            run_at,
                            version,
                            result.method,
                            queue_type,
                            str(queue),
                            grain,
                            period_at.to_pydatetime(),
                            float(row.yhat),
                            float(row.yhat_lower),
                            float(row.yhat_upper),
                            config.interval_width,
                        )
                        for period_at, row in result.predicted.iterrows()
                    ]
                    if result.report is None:
                        continue
                    baseline = result.report.score(BASELINE).mase
                    backtests += [
                        (
                            run_date,
                            run_at,
                            model_version(score.method),
                            queue_type,
                            str(queue),
                            grain,
                            score.method,
                            result.report.horizon,
                            score.folds,
                            score.points,
                            None if pd.isna(score.mape) else score.mape,
                            score.mase,
                            score.coverage,
                            score.mase < baseline,
                            score.method == result.method,
                            result.reason if score.method == result.method else None,
                            score.seconds,
                            None if pd.isna(score.interval_factor) else score.interval_factor,
                            None if pd.isna(score.calibrated_coverage) else score.calibrated_coverage,
                        )
                        for score in result.report.scores
                    ]
        with conn.transaction():
            written = store.replace_rows(
                conn, "ticket_volume_forecast", store.FORECAST_COLUMNS, forecasts, run_date
            )
            store.replace_rows(conn, "forecast_backtest", store.BACKTEST_COLUMNS, backtests, run_date)
    queues = len({(row[4], row[5]) for row in forecasts})
    methods = ", ".join(f"{method} {count}" for method, count in chosen.most_common())
    summary = (
        f"{written} forecast rows for {queues} queues (chosen per series and grain: {methods}); "
        f"{len(backtests)} backtest scores"
    )
    return summary + (f"; skipped (too little history): {', '.join(skipped)}" if skipped else "")


def staffing_step(database_url: str, settings: BatchSettings, as_of: datetime) -> str:
    """Agents needed per hour for the forecast week, the gap to the roster, and a shift plan."""
    run_at = datetime.now(UTC)
    run_date = as_of.astimezone(UTC).date()
    targets = staffing_targets(settings)
    aht = settings.aht_seconds()
    db.require_migrated(database_url)
    with db.connect(database_url) as conn:
        predicted = store.channel_forecast(conn, run_date)
        if predicted.empty:
            raise RuntimeError(f"no hourly channel forecast for {run_date}: run the forecasts step first")
        schedule = store.scheduled_agents(conn)
        requirements: list[tuple[object, ...]] = []
        required: dict[datetime, int] = {}
        for channel, rows in predicted.groupby("channel"):
            week = rows.head(HOURS_PER_WEEK)
            needs = channel_needs(str(channel), week["yhat"].tolist(), aht.get(str(channel), 600.0), targets)
            for period_at, need in zip(week["period_at"], needs, strict=True):
                requirements.append(
                    (
                        run_date,
                        run_at,
                        channel,
                        period_at,
                        need.model,
                        need.arrivals,
                        aht.get(str(channel), 600.0),
                        need.workload_hours,
                        need.agents_on_queue,
                        need.agents_scheduled,
                        need.service_level,
                        need.average_wait_seconds,
                        need.occupancy,
                    )
                )
                required[period_at] = required.get(period_at, 0) + need.agents_scheduled
        periods = sorted(required)
        need_by_hour = [0] * HOURS_PER_WEEK
        for period_at in periods:
            hour = hour_of_week(period_at)
            need_by_hour[hour] = max(need_by_hour[hour], required[period_at])
        plan = plan_shifts(
            need_by_hour,
            shift_hours=settings.shift_hours,
            cost_per_hour=settings.shift_cost_per_hour,
            time_limit_seconds=settings.solver_seconds,
        )
        gaps = [
            (
                run_date,
                run_at,
                period_at,
                hour_of_week(period_at),
                required[period_at],
                schedule[hour_of_week(period_at)],
                plan.on_shift[hour_of_week(period_at)],
                required[period_at] - schedule[hour_of_week(period_at)],
            )
            for period_at in periods
        ]
        shifts = [
            (
                run_date,
                run_at,
                hour,
                plan.starts[hour],
                plan.on_shift[hour],
                need_by_hour[hour],
                plan.shift_hours,
                plan.cost,
                plan.status,
            )
            for hour in range(HOURS_PER_WEEK)
        ]
        with conn.transaction():
            store.replace_rows(
                conn, "staffing_requirements", store.REQUIREMENT_COLUMNS, requirements, run_date
            )
            store.replace_rows(conn, "staffing_gap", store.GAP_COLUMNS, gaps, run_date)
            store.replace_rows(conn, "shift_plan", store.SHIFT_COLUMNS, shifts, run_date)
    short = sum(1 for period_at in periods if required[period_at] > schedule[hour_of_week(period_at)])
    return (
        f"{len(periods)} hours planned, peak need {max(need_by_hour)} agents, "
        f"{short} hours short of the roster; "
        f"shift plan {sum(plan.starts)} shifts ({plan.status}, cost {plan.cost:,.0f})"
    )


def staffing_targets(settings: BatchSettings) -> Targets:
    return Targets(
        service_level=settings.staffing_service_level,
        answer_seconds=settings.staffing_answer_seconds,
        max_occupancy=settings.staffing_max_occupancy,
        shrinkage=settings.staffing_shrinkage,
        backlog_hours=settings.staffing_backlog_hours,
    )


def hour_of_week(moment: datetime) -> int:
    """0 = Monday 00:00 UTC."""
    utc = moment.astimezone(UTC)
    return utc.weekday() * 24 + utc.hour


STEPS: dict[str, Step] = {"dbt": dbt_step, "forecasts": forecast_step, "staffing": staffing_step}


def run_nightly(
    database_url: str,
    settings: BatchSettings,
    as_of: datetime | None = None,
    steps: Sequence[str] = tuple(STEPS),
    progress: Callable[[str], None] = log.info,
) -> list[StepResult]:
    """Run ``steps`` in order; stop at the first failure with :class:`StepFailed`."""
    moment = as_of or datetime.now(UTC)
    results = []
    for index, name in enumerate(steps, start=1):
        progress(f"[{index}/{len(steps)}] {name} ...")
        started = time.perf_counter()
        try:
            summary = STEPS[name](database_url, settings, moment)
        except Exception as exc:
            raise StepFailed(name, exc) from exc
        seconds = time.perf_counter() - started
        results.append(StepResult(name, seconds, summary))
        progress(f"[{index}/{len(steps)}] {name} done in {seconds:.1f}s: {summary}")
    return results
