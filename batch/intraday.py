"""`cxa batch reforecast`: the rest of today's forecast per channel, revised from today's arrivals.

Meant to run every 15 minutes (cron, Airflow); each run replaces the day's revision in
``marts.intraday_forecast``: per channel and remaining hour (the current one included) the nightly
hourly forecast times the day's ratio (batch.reforecast), and the agents that rate needs (the
nightly staffing models and targets). Reads the latest nightly hourly channel forecast for today
and the tickets created since midnight UTC from raw (the marts are rebuilt nightly).
"""

from datetime import UTC, datetime, timedelta

import pandas as pd

from batch import store
from batch.nightly import queue_histories, staffing_targets
from batch.reforecast import day_factor_prior, revise
from batch.settings import BatchSettings
from batch.staffing import channel_needs
from cxa import db


def reforecast_step(database_url: str, settings: BatchSettings, as_of: datetime) -> str:
    """Revise the rest of the UTC day of ``as_of`` for every channel the nightly forecast covers."""
    run_at = datetime.now(UTC)
    moment = as_of.astimezone(UTC)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = (moment - day_start) / timedelta(hours=1)
    targets, aht = staffing_targets(settings), settings.aht_seconds()
    db.require_migrated(database_url)
    with db.connect(database_url) as conn:
        nightly = store.todays_channel_forecast(conn, day_start)
        if nightly.empty:
            raise RuntimeError(
                f"no nightly hourly channel forecast for {day_start:%Y-%m-%d}: run `cxa batch nightly` first"
            )
        # A nightly run after midnight forecasts from its own hour on: today's earlier hours have no
        # forecast, so their arrivals must not count against it either.
        counted_from = max(day_start, pd.Timestamp(nightly["period_at"].min()).to_pydatetime())
        arrivals = store.arrivals_since(conn, counted_from, moment)
        history = queue_histories(conn, "channel", day_start - timedelta(weeks=8), day_start)
        hours = pd.date_range(day_start, periods=24, freq="h")
        rows: list[tuple[object, ...]] = []
        ratios: dict[str, float] = {}
        priors: dict[str, float] = {}
        for channel, part in nightly.groupby("channel"):
            name = str(channel)
            whole_day = part.set_index("period_at").reindex(hours, fill_value=0.0)
            day = whole_day.iloc[int(elapsed) :]  # the current hour and the rest
            prior = settings.reforecast_prior_arrivals
            if prior is None:
                past = history.get(name)
                prior = day_factor_prior([] if past is None else past.resample("D").sum().tolist())
            revision = revise(
                whole_day["yhat"].to_numpy(dtype=float), arrivals.get(name, 0.0), elapsed, prior
            )
            ratios[name] = revision.ratio
            priors[name] = prior
            revised = (day["yhat"] * revision.ratio).tolist()
            needs = channel_needs(name, revised, aht.get(name, 600.0), targets)
            rows += [
                (
                    day_start.date(),
                    run_at,
                    name,
                    period_at.to_pydatetime(),
                    rate,
                    float(row.yhat_lower) * revision.ratio,
                    float(row.yhat_upper) * revision.ratio,
                    float(row.yhat),
                    revision.ratio,
                    revision.arrivals_so_far,
                    revision.forecast_so_far,
                    need.agents_scheduled,
                )
                for (period_at, row), rate, need in zip(day.iterrows(), revised, needs, strict=True)
            ]
        with conn.transaction():
            store.replace_rows(conn, "intraday_forecast", store.INTRADAY_COLUMNS, rows, day_start.date())
    shifts = ", ".join(
        f"{channel} x{ratio:.2f} (prior {priors[channel]:,.0f})" for channel, ratio in sorted(ratios.items())
    )
    since = f"; arrivals from {counted_from:%H:%M}, where the nightly forecast starts"
    return (
        f"rest of {day_start:%Y-%m-%d} from {moment:%H:%M} UTC revised for {len(ratios)} channels "
        f"({shifts}){since if counted_from > day_start else ''}"
    )
