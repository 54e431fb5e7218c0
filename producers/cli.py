"""`cxa produce`, `cxa simulate`, `cxa replay`: publish events to Kafka."""

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cxa.events import serialize
from cxa.settings import KafkaSettings
from cxa.topics import TICKET_EVENTS
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher
from producers.reference_loader import load_reference
from producers.replay import parse_mapping, replay
from producers.simulation.reference import generate_agents, generate_customers
from producers.simulation.runner import backfill, live, publishing
from producers.simulation.settings import SimulationSettings
from producers.simulation.shape import SHIPPED, fit_shape
from producers.simulation.texts import TextBank

log = logging.getLogger(__name__)

app = typer.Typer(help="Publish seeded demo tickets to Kafka.", no_args_is_help=True)
simulate_app = typer.Typer(
    help="A realistic ticketing system and workforce: backfill history, or run live in a closed "
    "loop with the router. Settings: CXA_SIM_* (see .env.example).",
    no_args_is_help=True,
)


def _progress(label: str) -> Progress:
    return Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[detail]}"),
    )


@app.command("tickets")
def tickets(
    count: int = typer.Option(1000, "--count", "-n", min=1, help="How many tickets to publish."),
    seed: int = typer.Option(0, help="Same seed, same tickets (and the same event ids)."),
    rate: float = typer.Option(0, help="Tickets per second; 0 publishes as fast as possible."),
) -> None:
    """Publish COUNT seeded ticket-created events to tickets.events, keyed by ticket id."""
    started = time.perf_counter()
    with Publisher(KafkaSettings()) as publisher, _progress("publishing") as progress:
        task = progress.add_task("tickets", total=count, detail="")
        for number, event in enumerate(demo_tickets(count, seed), start=1):
            if rate > 0:
                time.sleep(max(0.0, started + number / rate - time.perf_counter()))
            publisher.publish(TICKET_EVENTS, event.key, serialize(event))
            if number % 500 == 0 or number == count:
                elapsed = time.perf_counter() - started
                progress.update(task, completed=number, detail=f"{number / elapsed:,.0f}/s")
    elapsed = time.perf_counter() - started
    typer.echo(
        f"delivered {publisher.delivered} tickets in {elapsed:.1f} s ({publisher.delivered / elapsed:,.0f}/s)"
    )


@simulate_app.command("load-reference")
def load_reference_data() -> None:
    """Write the seeded customers and agents into raw.customers and raw.agents (idempotent)."""
    settings = SimulationSettings()
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    texts = TextBank.load(settings.texts_path, settings.text_column, settings.label_column)
    customers = generate_customers(settings, now)
    agents = generate_agents(settings, texts.categories, now)
    load_reference(settings.database.url, customers, agents)
    typer.echo(
        f"loaded {len(customers)} customers and {len(agents)} agents ({len(texts.categories)} categories)"
    )


@simulate_app.command("backfill")
def backfill_history(
    days: int = typer.Option(30, min=1, help="Days of history to simulate."),
    until_now: bool = typer.Option(
        False, "--until-now", help="End now instead of this midnight (UTC; repeatable, same ids)."
    ),
) -> None:
    """Publish DAYS of realistic history with historical timestamps, as fast as possible."""
    settings = SimulationSettings()
    end = datetime.now(UTC).replace(microsecond=0) if until_now else None
    load_reference_data()
    with Publisher(settings.kafka) as publisher, _progress("backfill") as progress:
        task = progress.add_task("days", total=days, detail="")
        started = time.perf_counter()

        def report(day: datetime, emitted: int) -> None:
            rate = emitted / (time.perf_counter() - started)
            progress.update(task, advance=1, detail=f"{day:%Y-%m-%d}  {emitted:,} events  {rate:,.0f}/s")

        result = backfill(settings, days, publishing(publisher), end=end, progress=report)
    typer.echo(
        f"published {result.events:,} events for {result.tickets:,} tickets "
        f"({result.start:%Y-%m-%d} to {result.end:%Y-%m-%d}) in {result.seconds:.0f} s: "
        f"{result.events / result.seconds:,.0f} events/s"
    )


@simulate_app.command("live")
def run_live(
    speed: float = typer.Option(1.0, min=0.01, help="Simulated seconds per wall-clock second."),
    minutes: float = typer.Option(
        0, min=0, help="Stop after this many simulated minutes; 0 runs until Ctrl-C."
    ),
) -> None:
    """Run the support centre live: tickets now, agents work what the router assigns them."""
    settings = SimulationSettings()
    load_reference_data()
    typer.echo(
        f"live at {speed:g}x; unrouted tickets fall back to {settings.fallback_policy!r} "
        f"after {settings.route_timeout_seconds:g} simulated s. Ctrl-C stops."
    )
    last = [time.monotonic()]
    with Publisher(settings.kafka) as publisher:

        def tick(simulation: object) -> None:
            if time.monotonic() - last[0] >= 10:
                last[0] = time.monotonic()
                log.info("published %d events", publisher.sent)

        try:
            live(
                settings,
                publishing(publisher),
                speed=speed,
                duration=timedelta(minutes=minutes) if minutes else None,
                on_tick=tick,
            )
        except KeyboardInterrupt:
            typer.echo("stopping: flushing what is queued")
    typer.echo(f"delivered {publisher.delivered:,} events")


@simulate_app.command("fit-shape")
def fit_arrival_shape(
    file: Path = typer.Argument(..., exists=True, help="CSV log with one row per ticket."),
    date_column: str = typer.Option("opendate", help="Column holding each ticket's open date."),
    out: Path = typer.Option(SHIPPED, help="Where to write the fitted shape (JSON)."),
) -> None:
    """Fit the weekday, month, holiday and noise factors of arrivals to a real ticket log."""
    shape = fit_shape(file, date_column)
    shape.save(out)
    typer.echo(
        f"wrote {out}: weekday {shape.weekday}, holiday x{shape.holiday}, "
        f"daily cv {shape.daily_cv} ({shape.source})"
    )


def replay_file(
    file: Path = typer.Argument(..., exists=True, help="A .csv, or .jsonl of rows or of whole events."),
    map_: list[str] = typer.Option(
        [],
        "--map",
        "-m",
        help="FIELD=COLUMN, e.g. ticket_id=unique_key occurred_at=opendate subject=complaint_type (repeat).",
    ),
    speed: float = typer.Option(
        0, min=0, help="Replay speed factor (3600: an hour per second); 0 is as fast as possible."
    ),
) -> None:
    """Publish a file of tickets as ticket-created events (or a JSONL of events as they are)."""
    mapping = parse_mapping(map_)
    invalid = []

    def skip(line: int, reason: str) -> None:
        invalid.append(line)
        if len(invalid) <= 10:
            typer.secho(f"line {line} skipped: {reason}", fg=typer.colors.YELLOW, err=True)

    with Publisher(KafkaSettings()) as publisher:
        published = replay(file, mapping, speed, publishing(publisher), skip)
    typer.echo(f"published {published:,} events; skipped {len(invalid):,} invalid rows")
