"""`cxa produce`, `cxa simulate`, `cxa replay`: publish events to Kafka."""

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cxa.events import EARLIEST_OCCURRED_AT, MAX_AHEAD, serialize
from cxa.reference import load_reference
from cxa.settings import KafkaSettings
from cxa.topics import TICKET_EVENTS
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher
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
    end_at: datetime | None = typer.Option(
        None,
        "--end",
        formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        help="End at this UTC time instead of this midnight (the same end gives the same history).",
    ),
) -> None:
    """Publish DAYS of realistic history with historical timestamps, as fast as possible."""
    settings = SimulationSettings()
    if until_now and end_at is not None:
        raise typer.BadParameter("give --until-now or --end, not both")
    end = datetime.now(UTC).replace(microsecond=0) if until_now else None
    if end_at is not None:
        end = end_at.replace(tzinfo=UTC)
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


SHOWN_INVALID = 20
"""How many skipped rows `cxa replay` names on stderr before it only counts the rest."""


def replay_file(
    file: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="A .csv, or .jsonl of rows or of whole events."
    ),
    map_: list[str] = typer.Option(
        [],
        "--map",
        "-m",
        help="FIELD=COLUMN, e.g. ticket_id=unique_key occurred_at=opendate subject=complaint_type (repeat).",
    ),
    speed: float = typer.Option(
        0, min=0, help="Replay speed factor (3600: an hour per second); 0 is as fast as possible."
    ),
    max_ahead_seconds: float = typer.Option(
        MAX_AHEAD.total_seconds(),
        "--max-ahead-seconds",
        min=0,
        max=1e9,
        help="Skip rows dated more than this many seconds after the clock at the start of the "
        "replay (the clock-skew allowance the stream worker applies). Rows before "
        f"{EARLIEST_OCCURRED_AT:%Y-%m-%d} are skipped too.",
    ),
) -> None:
    """Publish a file of tickets as ticket-created events (or a JSONL of events as they are).

    A row the event contract refuses (not JSON, not UTF-8, a field too long or holding U+0000, an
    unparsable, far-future or ancient time) is skipped and reported on stderr as "line N: reason"
    (the first 20, then a count of the rest), and the rest of the file still replays. N is the line
    in the file counted from 1, header and blank lines included; a CSV record with quoted newlines
    is reported at the line where it starts.

    Exit status: 0 when at least one event was published (skipped rows are counted in the summary),
    1 when the file held no valid row, 2 for bad options.
    """
    try:
        mapping = parse_mapping(map_)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--map") from None
    skipped = 0

    def skip(line: int, reason: str) -> None:
        nonlocal skipped
        skipped += 1
        if skipped <= SHOWN_INVALID:
            reason = " ".join(reason.splitlines())
            typer.secho(f"line {line}: {reason}", fg=typer.colors.YELLOW, err=True)

    with Publisher(KafkaSettings()) as publisher:
        published = replay(
            file,
            mapping,
            speed,
            publishing(publisher),
            skip,
            max_ahead=timedelta(seconds=max_ahead_seconds),
        )
    if skipped > SHOWN_INVALID:
        typer.secho(
            f"... and {skipped - SHOWN_INVALID:,} more invalid rows", fg=typer.colors.YELLOW, err=True
        )
    typer.echo(f"published {published:,} events; skipped {skipped:,} invalid rows")
    if not published:
        typer.secho(f"error: {file} holds no valid row", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
