"""`cxa produce ...`: publish events to Kafka."""

import time

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cxa.events import serialize
from cxa.settings import KafkaSettings
from cxa.topics import TICKET_EVENTS
from producers.demo_tickets import demo_tickets
from producers.publisher import Publisher

app = typer.Typer(help="Publish events to Kafka.", no_args_is_help=True)


@app.command("tickets")
def tickets(
    count: int = typer.Option(1000, "--count", "-n", min=1, help="How many tickets to publish."),
    seed: int = typer.Option(0, help="Same seed, same tickets (and the same event ids)."),
    rate: float = typer.Option(0, help="Tickets per second; 0 publishes as fast as possible."),
) -> None:
    """Publish COUNT seeded ticket-created events to tickets.events, keyed by ticket id."""
    started = time.perf_counter()
    with (
        Publisher(KafkaSettings()) as publisher,
        Progress(
            TextColumn("[bold]publishing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[rate]}"),
            transient=False,
        ) as progress,
    ):
        task = progress.add_task("tickets", total=count, rate="")
        for number, event in enumerate(demo_tickets(count, seed), start=1):
            if rate > 0:
                time.sleep(max(0.0, started + number / rate - time.perf_counter()))
            publisher.publish(TICKET_EVENTS, event.key, serialize(event))
            if number % 500 == 0 or number == count:
                elapsed = time.perf_counter() - started
                progress.update(task, completed=number, rate=f"{number / elapsed:,.0f}/s")
    elapsed = time.perf_counter() - started
    typer.echo(
        f"delivered {publisher.delivered} tickets in {elapsed:.1f} s ({publisher.delivered / elapsed:,.0f}/s)"
    )
