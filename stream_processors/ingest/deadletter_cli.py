"""`cxa deadletter ...`: list the messages the worker refused, and replay them once the cause is fixed."""

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import psycopg
import typer
from confluent_kafka import KafkaException
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cxa import db
from cxa.settings import DatabaseSettings, KafkaSettings
from stream_processors.ingest import deadletter_review as review

app = typer.Typer(
    help="Dead letters: the messages the worker refused (cxa.deadletter, live.deadletters). "
    "List them, and replay them to their origin topic once the cause is fixed.",
    no_args_is_help=True,
)

SINCE_HELP = (
    "Only dead letters from this time on: ISO-8601 (UTC unless it has an offset), "
    "or a duration ago (30m, 2h, 7d)."
)
REASON_HELP = "Only this kind (e.g. too_large, schema) or reasons containing this text (any case)."


def _console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 250  # piped or captured: rows on one line each rather than squeezed into 80
    return console


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return review.parse_since(text, datetime.now(UTC))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from exc


@contextmanager
def _reported_errors() -> Iterator[None]:
    """PostgreSQL's and Kafka's usual failures as an error line and a hint, exit code 1."""
    try:
        yield
    except psycopg.errors.UndefinedTable as exc:
        raise _fail(f"{exc}\nIs the database migrated (`cxa migrate`)?") from exc
    except psycopg.OperationalError as exc:
        raise _fail(f"{exc}\nIs PostgreSQL up and DATABASE_URL right?") from exc
    except KafkaException as exc:
        raise _fail(f"{exc}\nIs Kafka up and KAFKA_BOOTSTRAP_SERVERS right?") from exc


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


def _cells(row: review.DeadLetterRow) -> dict[str, Text]:
    """A dead letter as display text (plain: a value's "[" never reads as rich markup)."""
    cells = {
        "when (UTC)": review.when_text(row.dead_lettered_at),
        "kind": row.kind,
        "origin": row.origin,
        "key": review.key_text(row.message_key),
        "value": review.preview(row.value_head, row.value_bytes),
        "reason": review.shorten(review.readable(row.reason), review.REASON_CHARS),
        "replayed": review.when_text(row.replayed_at) or "no",
    }
    return {name: Text(text) for name, text in cells.items()}


LIST_COLUMNS = ("when (UTC)", "kind", "origin", "key", "value", "reason", "replayed")
WRAPPED = ("value", "reason")


def _print_letters(console: Console, rows: Sequence[review.DeadLetterRow]) -> None:
    """One table row per dead letter where the table fits, else a short block per dead letter."""
    cells = [_cells(row) for row in rows]
    # The unwrapped columns at full width, the wrapped ones at least 24 wide, 3 per column border.
    needed = sum(
        max(len(name), *(row[name].cell_len for row in cells)) for name in LIST_COLUMNS if name not in WRAPPED
    )
    if needed + 24 * len(WRAPPED) + 3 * len(LIST_COLUMNS) <= console.width:
        table = Table(show_edge=False, header_style="bold")
        for name in LIST_COLUMNS:
            table.add_column(name, no_wrap=name not in WRAPPED, overflow="fold")
        for row in cells:
            table.add_row(*(row[name] for name in LIST_COLUMNS))
        console.print(table)
        return
    for row in cells:
        head = Text("  ").join(row[name] for name in ("when (UTC)", "kind", "origin", "key"))
        console.print(head.append(f"  replayed: {row['replayed']}"), style="bold")
        console.print(Text("  value   ").append(row["value"]))
        console.print(Text("  reason  ").append(row["reason"]))


def _candidates_table(rows: Sequence[review.ReplayCandidate]) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for name in ("when (UTC)", "kind", "origin", "key", "bytes", "replayed"):
        table.add_column(name, overflow="fold")
    for row in rows:
        cells = (
            review.when_text(row.dead_lettered_at),
            row.kind,
            row.origin,
            review.key_text(row.message_key),
            f"{row.value_bytes:,}",
            review.when_text(row.replayed_at) or "no",
        )
        table.add_row(*(Text(cell) for cell in cells))
    return table


@app.command(
    "list",
    help="Show dead letters from live.deadletters, newest first, and a count per kind.\n\n"
    "Keys and values are decoded as UTF-8 (invalid bytes replaced), control characters escaped, "
    "values previewed rather than shown whole. Dead letters already replayed are hidden unless --all.",
)
def list_command(
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    reason: str | None = typer.Option(None, "--reason", help=REASON_HELP),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many (the newest)."),
    show_all: bool = typer.Option(False, "--all", help="Include dead letters already replayed."),
) -> None:
    selection = review.Selection(since=_since(since), reason=reason, include_replayed=show_all)
    with _reported_errors(), db.connect(DatabaseSettings().url, autocommit=True) as conn:
        rows = review.list_deadletters(conn, selection, limit)
        counts = review.count_by_kind(conn, selection)
    console = _console()
    if rows:
        _print_letters(console, rows)
    console.print(Text(review.summary_line(counts, len(rows), include_replayed=show_all)))


@app.command(
    "replay",
    help="Re-publish dead letters to the topic they came from, with their original key and bytes.\n\n"
    "Each goes to its original partition with a cxa.replay.of header (topic/partition/offset of the "
    "original) and is marked replayed once Kafka confirms it, so running this again replays nothing "
    "new (unless --again). Dead letters whose value was truncated cannot be replayed: they are "
    "skipped and named; so are the ingest gateway's (webhook/<vendor>, http/events), which the "
    "helpdesk sends again. Exits 1 if Kafka refused any.",
)
def replay_command(
    since: str | None = typer.Option(None, "--since", help=SINCE_HELP),
    reason: str | None = typer.Option(None, "--reason", help=REASON_HELP),
    origin: str | None = typer.Option(None, "--origin", help="Only dead letters read from this topic."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be replayed; publish nothing."),
    again: bool = typer.Option(False, "--again", help="Replay dead letters already replayed, too."),
) -> None:
    selection = review.Selection(since=_since(since), reason=reason, origin_topic=origin)
    console = _console()
    with _reported_errors(), Console(stderr=True).status("reading dead letters") as status:
        report = review.replay(
            DatabaseSettings().url,
            KafkaSettings(),
            selection,
            again=again,
            dry_run=dry_run,
            on_batch=lambda progress: status.update(progress.summary(dry_run=dry_run)),
        )
    if dry_run and report.replayed:
        console.print(_candidates_table(report.replayed))
    if report.truncated:
        console.print(
            Text(
                f"not replayable, their value was cut short when dead-lettered ({len(report.truncated):,}): "
                + ", ".join(
                    f"{row.origin} ({row.stored_bytes:,} of {row.value_bytes:,} bytes kept)"
                    for row in report.truncated[:10]
                )
                + (", …" if len(report.truncated) > 10 else "")
            )
        )
    if report.from_gateway:
        console.print(
            Text(
                f"not replayable here, refused by the ingest gateway ({len(report.from_gateway):,}): fix the "
                "cause (the mapping file, the client's body) and have the helpdesk or client send them again"
            )
        )
    for row, why in report.failed[:10]:
        typer.secho(f"refused: {row.origin}: {why}", fg=typer.colors.RED, err=True)
    if len(report.failed) > 10:
        typer.secho(f"refused: {len(report.failed) - 10:,} more", fg=typer.colors.RED, err=True)
    console.print(Text(report.summary(dry_run=dry_run)))
    if report.failed:
        raise typer.Exit(code=1)
