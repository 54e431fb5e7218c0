"""Replay a CSV or JSONL file of tickets as ticket-created events, at a speed factor.

A column mapping names which column holds each field of ``ticket.created``; fields without a
column take defaults. Event ids derive from the ticket id, so replaying a file twice adds nothing.
JSONL lines that are already complete events (they carry ``event_type``) are published as they are.

A row the contract refuses (not JSON, not an object, bytes that are not UTF-8, a field too long, an
unparsable time, a time before :data:`cxa.events.EARLIEST_OCCURRED_AT` or too far ahead of the
clock) is reported with its line number and skipped; the rest of the file still replays. Lines are
the file's physical lines counted from 1, header and blank lines included; a CSV record that spans
several lines (a quoted field holding newlines) is reported at the line where it starts.
"""

import csv
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from cxa import events

NAMESPACE = uuid.UUID("6f1d2c1e-6c0b-4b7e-9a55-3f3f0a3c9e10")
FIELDS = ("ticket_id", "occurred_at", "customer_id", "channel", "priority", "subject", "body", "language")
DEFAULTS = {
    "customer_id": "unknown",
    "channel": "web",
    "priority": "normal",
    "subject": "",
    "body": "",
    "language": "en",
}
SUBJECT_LENGTH = 1_000
"""Longer subjects are cut to this length rather than refused (free-text exports often overrun)."""

SourceEvent = events.TicketEventBase | events.AgentEventBase
Record = tuple[int, dict[str, Any] | events.InvalidEvent]
"""A row of the file and the line it starts on, or why that line is not a row."""

NOT_UTF8 = "not valid UTF-8 (convert the file first, e.g. iconv -f latin1 -t utf-8)"
JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["ticket_id=unique_key", "occurred_at=opendate"]`` -> {field: column}."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field not in FIELDS:
            raise ValueError(f"bad mapping {pair!r}: use FIELD=COLUMN with FIELD one of {FIELDS}")
        mapping[field] = column
    return mapping


def _is_utf8(line: str) -> bool:
    # The file is read with errors="surrogateescape": each undecodable byte became a lone surrogate.
    if line.isascii():
        return True
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _jsonl_records(handle: TextIO) -> Iterator[Record]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        if not _is_utf8(line):
            yield number, events.InvalidEvent(NOT_UTF8)
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, events.InvalidEvent(f"not JSON: {exc.msg} at column {exc.colno}")
            continue
        except (ValueError, RecursionError) as exc:  # an integer too long to convert, deep nesting
            yield number, events.InvalidEvent(f"not JSON this replay can read: {exc}")
            continue
        if not isinstance(row, dict):
            got = "null" if row is None else JSON_TYPES.get(type(row), type(row).__name__)
            yield number, events.InvalidEvent(f"a JSON object was expected, not {got}")
            continue
        yield number, row


def _checked_lines(handle: TextIO, undecodable: list[int]) -> Iterator[str]:
    for number, line in enumerate(handle, start=1):
        if not _is_utf8(line):
            undecodable.append(number)
        yield line


def _csv_records(handle: TextIO) -> Iterator[Record]:
    undecodable: list[int] = []
    reader = csv.reader(_checked_lines(handle, undecodable))
    header: list[str] | None = None
    end = 0  # the last line of the previous record
    while True:
        # The reader fetches lines only as the current record needs them, so it starts on the line
        # after the previous one ended and every line noted in ``undecodable`` belongs to it.
        start = end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
            end = reader.line_num
            undecodable.clear()
            yield start, events.InvalidEvent(f"not CSV: {exc}")
            continue
        end = reader.line_num
        if undecodable:
            undecodable.clear()
            yield start, events.InvalidEvent(NOT_UTF8)
            if header is not None:
                continue
        if not fields:  # a blank line
            continue
        if header is None:
            header = fields
            continue
        # As csv.DictReader: missing trailing fields are None, surplus ones are ignored.
        yield start, {name: fields[i] if i < len(fields) else None for i, name in enumerate(header)}


def _records(path: Path) -> Iterator[Record]:
    # utf-8-sig drops the byte-order mark spreadsheet exports start with; universal newlines
    # (newline="") count \n, \r\n and \r alike and leave quoted newlines to the CSV reader.
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        if path.suffix.lower() in (".jsonl", ".ndjson"):
            yield from _jsonl_records(handle)
        else:
            yield from _csv_records(handle)


def _excerpt(value: Any, limit: int = 60) -> str:
    text = repr(str(value))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _timestamp(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise events.InvalidEvent(f"occurred_at {_excerpt(value)} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_event(row: dict[str, Any], mapping: dict[str, str]) -> SourceEvent:
    """One row as an event; raises :class:`cxa.events.InvalidEvent` naming the problem."""
    if "event_type" in row and not mapping:
        return events.parse(json.dumps(row).encode())
    values: dict[str, Any] = dict(DEFAULTS)
    for field, column in mapping.items():
        if column not in row:
            raise events.InvalidEvent(f"the file has no column {column!r} (mapped to {field})")
        if row[column] not in (None, ""):
            values[field] = row[column]
    for required in ("ticket_id", "occurred_at"):
        if required not in mapping:
            raise events.InvalidEvent("map at least ticket_id=COLUMN and occurred_at=COLUMN")
        if required not in values:
            raise events.InvalidEvent(f"{required} is empty (column {mapping[required]!r})")
    values["occurred_at"] = _timestamp(values["occurred_at"])
    values["event_id"] = uuid.uuid5(NAMESPACE, f"ticket.created:{values['ticket_id']}")
    values["subject"] = str(values["subject"])[:SUBJECT_LENGTH]
    try:
        return events.TicketCreated.model_validate(values)
    except ValidationError as exc:
        raise events.InvalidEvent(events.describe(exc)) from exc


def replay(
    path: Path,
    mapping: dict[str, str],
    speed: float,
    emit: Callable[[SourceEvent], None],
    on_invalid: Callable[[int, str], None],
    *,
    max_ahead: timedelta = events.MAX_AHEAD,
    now: datetime | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Publish every valid row in file order and return how many; report each other one to
    ``on_invalid(line, reason)`` and go on.

    ``speed`` 0 means as fast as possible; otherwise the gaps between ``occurred_at`` times are
    replayed ``speed`` times faster, from the first published event on. Rows dated more than
    ``max_ahead`` after ``now`` (the wall clock at the start by default) or before
    :data:`cxa.events.EARLIEST_OCCURRED_AT` are refused, as the stream worker refuses them, before
    any wait: a year-9999 row cannot stall the replay.
    """
    now = now or datetime.now(UTC)
    first: tuple[datetime, float] | None = None
    published = 0
    for line, row in _records(path):
        if isinstance(row, events.InvalidEvent):
            on_invalid(line, row.reason)
            continue
        try:
            event = to_event(row, mapping)
            events.check_occurred_at(event.occurred_at, now, max_ahead)
        except ValueError as exc:  # InvalidEvent, or anything else one row's values can cause
            on_invalid(line, str(exc))
            continue
        if speed > 0:
            if first is None:
                first = (event.occurred_at, clock())
            due = first[1] + (event.occurred_at - first[0]).total_seconds() / speed
            delay = due - clock()
            if delay > 0:
                sleep(delay)
        emit(event)
        published += 1
    return published
