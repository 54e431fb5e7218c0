"""Dashboard server time: the wall-board refresh and each page's data + figure build, on a year of marts.

A throwaway PostgreSQL gets the synthetic warehouse of tests.fixtures.marts (a year of tickets in
marts, a current floor in live); the app is built as `cxa dashboard serve` builds it, and each
measured piece runs inside a request of a signed-in admin: the same queries and pure figure
functions the callbacks run, without the browser.
"""

import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask

from cxa import db
from cxa.marts import ForecastGrain
from cxa.settings import StackSettings
from cxa.stack import PostgresCluster
from cxa.stack.throwaway import free_port
from dash_app import figures
from dash_app.access import SignedIn, context
from dash_app.filters import TicketFilter
from dash_app.permissions import Role
from dash_app.server import create_app
from dash_app.settings import DashboardSettings
from tests.fixtures.marts import seed_marts, write_floor

log = logging.getLogger(__name__)


def page_builds(last_day: Any) -> dict[str, Callable[[], object]]:
    f = TicketFilter(last_day - timedelta(days=27), last_day)
    year = TicketFilter(last_day - timedelta(days=364), last_day)

    # The page modules as Dash loaded them (importing them again would register the pages twice).
    wallboard = next(module for name, module in sys.modules.items() if name.endswith("pages.wallboard"))

    def wall() -> object:
        return wallboard.floor_outputs()

    def volume() -> object:
        w = context().warehouse
        w.filter_options()
        return (
            figures.volume_figure(w.volume_daily(year)),
            figures.sla_figure(w.sla_by(f, "channel"), "channel"),
            w.tickets(f, "channel", "chat"),
        )

    def agents() -> object:
        return figures.agent_performance_figure(context().warehouse.agent_performance(f))

    def customers() -> object:
        w = context().warehouse
        return figures.customer_segment_figure(w.customer_segments()), w.churn_risk_customers()

    def forecast() -> object:
        w = context().warehouse
        fc = w.forecast("channel", "chat", ForecastGrain.DAY)
        actual = w.actual_volume(
            "channel", "chat", ForecastGrain.DAY, fc["period_at"].min() - timedelta(days=120)
        )
        return figures.forecast_figure(actual, fc, "chat"), figures.backtest_figure(w.backtest())

    def staffing() -> object:
        return figures.staffing_figure(context().warehouse.staffing_gap())

    def categorizer() -> object:
        w = context().warehouse
        return (
            figures.categorizer_accuracy_figure(
                w.categorizer_daily(year), w.categorizer_quality(datetime.now(UTC) - timedelta(days=7))
            ),
            figures.confusion_figure(w.categorizer_confusion(year)),
            figures.categorizer_precision_recall_figure(w.categorizer_categories()),
        )

    return {
        "wall board refresh": wall,
        "volume & SLA": volume,
        "agents": agents,
        "customers": customers,
        "forecast": forecast,
        "staffing": staffing,
        "categorizer": categorizer,
    }


def run(days: int, tickets_per_day: int, repeats: int) -> list[dict[str, Any]]:
    settings = StackSettings()
    home = Path(tempfile.mkdtemp(prefix="cxa-bench-dashboard-"))
    postgres = PostgresCluster(
        home=home, bin_dir=settings.postgres_bin_dir, port=free_port(), database="postgres"
    )
    postgres.start()
    try:
        url = postgres.url.rsplit("/", 1)[0] + "/bench"
        with db.connect(postgres.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        db.migrate(url)
        end = datetime.now(UTC).date()
        with db.connect(url, autocommit=True) as conn:
            tickets = seed_marts(conn, days, tickets_per_day, end)
            conn.execute("ANALYZE")
            write_floor(conn, datetime.now(UTC), waiting=60)
        log.info("seeded %s tickets over %s days", tickets, days)
        app = create_app(DashboardSettings(CXA_DASHBOARD_SECRET_KEY="bench"), url)
        rows = []
        with app.server.test_request_context("/"):
            flask.g.cxa_user = SignedIn("bench", Role.ADMIN)
            for name, build in page_builds(end).items():
                build()  # warm the pool and plan caches
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    build()
                    times.append(1000 * (time.perf_counter() - started))
                target = 200 if name == "wall board refresh" else 1000
                rows.append(
                    {
                        "piece": name,
                        "tickets": tickets,
                        "median_ms": statistics.median(times),
                        "max_ms": max(times),
                        "target_ms": target,
                        "meets_target": max(times) < target,
                    }
                )
        return rows
    finally:
        postgres.stop()
