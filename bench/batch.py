"""The nightly batch job over a year of history: dbt build, forecasts, staffing, step by step.

A throwaway PostgreSQL (no Kafka needed) gets a deterministic synthetic history loaded straight
into raw (tests.fixtures.history; about 9 events per ticket), each event's ingested_at set to when it
occurred, as if it had streamed in. The last day's events are held back. Then:

* ``full``: the first nightly run, every incremental model built from scratch;
* ``incremental``: the held-back day is loaded and the nightly job runs again, as it would the
  next night: incremental models reprocess only the tickets with new events.

Each row times the three steps of `cxa batch nightly` and the whole job (wall clock).
"""

import logging
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from batch.nightly import run_nightly
from batch.settings import BatchSettings
from cxa import db
from cxa.settings import StackSettings
from cxa.stack import PostgresCluster
from cxa.stack.throwaway import free_port
from tests.fixtures.history import History, generate_history
from tests.fixtures.raw_loader import load_history

log = logging.getLogger(__name__)


def split_at(history: History, cutoff: datetime) -> tuple[History, History]:
    """The history before ``cutoff``, and the ticket events from it on (the next day's arrivals)."""
    before = History(
        customers=history.customers,
        agents=history.agents,
        ticket_events=[event for event in history.ticket_events if event.occurred_at < cutoff],
        agent_events=[event for event in history.agent_events if event.occurred_at < cutoff],
    )
    after = History(
        ticket_events=[event for event in history.ticket_events if event.occurred_at >= cutoff],
        agent_events=[event for event in history.agent_events if event.occurred_at >= cutoff],
    )
    return before, after


def backdate_ingestion(url: str) -> None:
    """As if the history had streamed in live: each event ingested when it occurred."""
    with db.connect(url, autocommit=True) as conn:
        for table in ("ticket_events", "agent_events"):
            conn.execute(f"UPDATE raw.{table} SET ingested_at = occurred_at")
            conn.execute(f"VACUUM ANALYZE raw.{table}")


def run(days: int, tickets_per_day: float) -> list[dict[str, Any]]:
    settings = StackSettings()
    home = Path(tempfile.mkdtemp(prefix="cxa-bench-batch-"))
    postgres = PostgresCluster(
        home=home, bin_dir=settings.postgres_bin_dir, port=free_port(), database="postgres"
    )
    postgres.start()
    try:
        url = postgres.url.rsplit("/", 1)[0] + "/bench"
        with db.connect(postgres.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        db.migrate(url)
        start = date(2025, 1, 1)
        started = time.perf_counter()
        history = generate_history(start, days + 1, tickets_per_day, seed=2025)
        generated = time.perf_counter() - started
        cutoff = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(days=days)
        before, after = split_at(history, cutoff)
        started = time.perf_counter()
        load_history(url, before)
        backdate_ingestion(url)
        loaded = time.perf_counter() - started
        tickets = sum(event.event_type == "ticket.created" for event in before.ticket_events)
        log.info(
            "history: %d tickets, %d ticket events, %d agent events (generated %.0fs, loaded %.0fs)",
            tickets, len(before.ticket_events), len(before.agent_events), generated, loaded,
        )  # fmt: skip
        batch_settings = BatchSettings(CXA_DBT_TARGET_DIR=home / "dbt")
        rows = [measure("full", url, batch_settings, cutoff, tickets, len(before.ticket_events))]
        load_history(url, after)
        new_tickets = sum(event.event_type == "ticket.created" for event in after.ticket_events)
        rows.append(
            measure(
                "incremental (+1 day)",
                url,
                batch_settings,
                cutoff + timedelta(days=1),
                tickets + new_tickets,
                len(before.ticket_events) + len(after.ticket_events),
            )
        )
        for row in rows:
            row["history_generate_s"] = round(generated, 1)
            row["history_load_s"] = round(loaded, 1)
        return rows
    finally:
        postgres.stop()
        shutil.rmtree(postgres.data_dir, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def measure(
    name: str, url: str, settings: BatchSettings, as_of: datetime, tickets: int, events: int
) -> dict[str, Any]:
    started = time.perf_counter()
    results = run_nightly(url, settings, as_of=as_of)
    total = time.perf_counter() - started
    seconds = {result.step: result.seconds for result in results}
    return {
        "run": name,
        "tickets": tickets,
        "ticket_events": events,
        "dbt_build_s": round(seconds["dbt"], 1),
        "forecasts_s": round(seconds["forecasts"], 1),
        "staffing_s": round(seconds["staffing"], 1),
        "nightly_total_s": round(total, 1),
        "target_s": 300,
        "within_target": total < 300,
    }
