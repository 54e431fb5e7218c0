"""`cxa batch ...`: the nightly job, backtests on any CSV, and the planner's staffing question."""

import json
import logging
import math
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import typer

from batch.settings import BatchSettings
from cxa.settings import DatabaseSettings

app = typer.Typer(
    help="Nightly transformations (dbt), forecasts with backtests, and staffing plans.",
    no_args_is_help=True,
)


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def parse_as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise typer.BadParameter("give a timezone, e.g. 2026-01-31T00:00:00+00:00")
    return moment.astimezone(UTC)


@app.command("nightly")
def nightly(
    steps: str = typer.Option("dbt,forecasts,staffing", help="Comma-separated steps to run, in this order."),
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental dbt models."),
    as_of: str | None = typer.Option(
        None, help="Measure breaches and forecast from this moment (ISO, with timezone); default now."
    ),
) -> None:
    """dbt build, then forecasts (with backtests), then staffing, timed step by step.

    Safe to re-run: a second run on the same day replaces that day's forecast and staffing rows.
    Exits non-zero naming the failed step.
    """
    from batch.nightly import STEPS, StepFailed, run_nightly

    chosen = [step.strip() for step in steps.split(",") if step.strip()]
    unknown = [step for step in chosen if step not in STEPS]
    if unknown:
        raise typer.BadParameter(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    settings = BatchSettings()
    if full_refresh:
        settings = settings.model_copy(update={"dbt_full_refresh": True})
    database = DatabaseSettings()
    logging.getLogger("batch").setLevel(logging.INFO)
    try:
        results = run_nightly(database.url, settings, parse_as_of(as_of), chosen, progress=typer.echo)
    except StepFailed as exc:
        raise fail(f"nightly job stopped: {exc}") from exc
    total = sum(result.seconds for result in results)
    typer.echo("step        seconds")
    for result in results:
        typer.echo(f"{result.step:<11} {result.seconds:7.1f}")
    typer.echo(f"{'total':<11} {total:7.1f}")


@app.command("reforecast")
def reforecast(
    as_of: str | None = typer.Option(
        None, help="Revise as of this moment (ISO, with timezone); default now."
    ),
) -> None:
    """Revise the rest of today's hourly forecast per channel from today's arrivals so far.

    Run it every 15 minutes during the day; each run replaces today's rows of
    marts.intraday_forecast. Needs the nightly job's forecast for today."""
    from batch.intraday import reforecast_step

    try:
        summary = reforecast_step(
            DatabaseSettings().url, BatchSettings(), parse_as_of(as_of) or datetime.now(UTC)
        )
    except RuntimeError as exc:
        raise fail(str(exc)) from exc
    typer.echo(summary)


@app.command("backtest")
def backtest(
    file: Path = typer.Option(..., "--file", exists=True, dir_okay=False, help="CSV file to read."),
    timestamp_col: str = typer.Option(..., help="Column with the timestamp of each row."),
    value_col: str | None = typer.Option(
        None, help="Column with a value to sum per period; without it each row is one event, counted."
    ),
    freq: str = typer.Option("D", help="D (daily) or H (hourly)."),
    horizon: int | None = typer.Option(None, help="Periods ahead per origin (default 28 days or 168 hours)."),
    folds: int = typer.Option(8, min=1, help="Rolling origins."),
    step: int | None = typer.Option(None, help="Periods between origins (default: the horizon)."),
    start: str | None = typer.Option(None, help="Ignore rows before this date."),
    end: str | None = typer.Option(None, help="Ignore rows after this date (e.g. an incomplete tail)."),
    holidays: str = typer.Option("US", help="Country of the public holidays Prophet models ('' for none)."),
    methods: str = typer.Option(
        "", help="Comma-separated methods to compare (default: every candidate; seasonal_naive always)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Rolling-origin backtest of every candidate forecast method on a CSV's series, and the one the
    nightly job would choose (the lowest MASE). "interval x" is the factor on a method's interval
    that covers 80% of the backtest's actuals (the nightly job ships the chosen method's interval
    scaled by it; "-" when the backtest cannot tell); "calibrated" is the coverage each origin gets
    from the other origins' factor."""
    from batch.backtest import rolling_origin
    from batch.forecast import CANDIDATES, METHODS, ForecastConfig, normalise_freq, season_length
    from batch.series import read_series

    chosen = BatchSettings.names(methods) or list(CANDIDATES)
    unknown = [name for name in chosen if name not in METHODS]
    if unknown:
        raise typer.BadParameter(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    try:
        grain = normalise_freq(freq)
        series = read_series(file, timestamp_col, grain, value_col, start, end)
        periods = horizon or (28 if grain == "D" else season_length(grain))
        config = ForecastConfig(freq=grain, uncertainty_samples=200, holidays_country=holidays or None)
        report = rolling_origin(series, periods, config, folds=folds, step=step, methods=chosen)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if as_json:
        document = report.as_dict()
        document["series"] = {
            "periods": len(series),
            "first": str(series.index[0]),
            "last": str(series.index[-1]),
        }
        typer.echo(json.dumps(document, indent=2))
        return
    typer.echo(
        f"{len(series)} periods ({series.index[0]:%Y-%m-%d} .. {series.index[-1]:%Y-%m-%d}), "
        f"{report.folds} origins, horizon {report.horizon}"
    )
    typer.echo(
        f"{'method':<16} {'MAPE':>8} {'MASE':>7} {'coverage':>9} {'interval x':>10} {'calibrated':>10}"
        f" {'seconds':>8}"
    )
    for score in report.scores:
        figures = (
            f"{score.mape:8.1%} {score.mase:7.3f} {score.coverage:9.1%}"
            f" {'-' if math.isnan(score.interval_factor) else f'{score.interval_factor:.2f}':>10}"
            f" {'-' if math.isnan(score.calibrated_coverage) else f'{score.calibrated_coverage:.1%}':>10}"
            f" {score.seconds:8.2f}"
        )
        typer.echo(f"{score.method:<16} {figures}")
    for method, error in report.failed.items():
        typer.echo(f"{method:<16} left out: {error}")
    typer.echo(f"chosen: {report.reason}")


@app.command("staffing")
def staffing(
    arrivals: str = typer.Option(..., help="Arrivals per interval, comma-separated (e.g. 80,120,150)."),
    aht: float = typer.Option(..., help="Average handle time in seconds."),
    target: float = typer.Option(0.8, help="Service level: share answered within --answer-seconds."),
    answer_seconds: float = typer.Option(20, help="Answer-time target in seconds."),
    interval_minutes: float = typer.Option(60, help="Interval length in minutes."),
    max_occupancy: float = typer.Option(0.85, help="Highest acceptable occupancy."),
    shrinkage: float = typer.Option(0.3, help="Share of paid time not on the queue."),
    channel: str = typer.Option("phone", help="chat/phone: Erlang C; email/web/social: backlog model."),
    backlog_hours: float = typer.Option(4, help="Deferred channels: hours within which work is done."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
) -> None:
    """How many agents per interval, and the service level, wait and occupancy they give."""
    from batch.staffing import Targets, channel_needs

    try:
        counts = [float(value) for value in arrivals.split(",") if value.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"arrivals must be numbers: {exc}") from exc
    targets = Targets(target, answer_seconds, max_occupancy, shrinkage, backlog_hours)
    needs = channel_needs(channel, counts, aht, targets, interval_seconds=interval_minutes * 60)
    if as_json:
        typer.echo(json.dumps([asdict(need) for need in needs], indent=2))
        return
    typer.echo(
        f"{'interval':>8} {'arrivals':>9} {'erlangs':>8} {'on queue':>9} {'rostered':>9} "
        f"{'service':>8} {'ASA s':>7} {'occupancy':>10}"
    )
    for index, need in enumerate(needs, start=1):
        level = "-" if need.service_level is None else f"{need.service_level:.1%}"
        wait = "-" if need.average_wait_seconds is None else f"{need.average_wait_seconds:.1f}"
        typer.echo(
            f"{index:>8} {need.arrivals:>9g} {need.workload_hours:>8.2f} {need.agents_on_queue:>9} "
            f"{need.agents_scheduled:>9} {level:>8} {wait:>7} {need.occupancy:>10.1%}"
        )


@app.command("docs")
def docs() -> None:
    """Generate the dbt documentation site (dbt docs generate) into the dbt target folder."""
    from batch.transform import DbtFailed, generate_docs

    try:
        generate_docs(DatabaseSettings().url, BatchSettings())
    except DbtFailed as exc:
        raise fail(str(exc)) from exc
    typer.echo("dbt docs generated; serve them with `dbt docs serve --project-dir dbt --profiles-dir dbt`")
