"""Replay a CSV or JSONL file of tickets as ticket-created events, at a speed factor.

A column mapping names which column holds each field of ``ticket.created``; fields without a
column take defaults. Event ids derive from the ticket id, so replaying a file twice adds nothing.
JSONL lines that are already complete events (they carry ``event_type``) are published as they are.
"""

import csv
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def parse_mapping(pairs: list[str]) -> dict[str, str]:
    """``["ticket_id=unique_key", "occurred_at=opendate"]`` -> {field: column}."""
    mapping = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or field not in FIELDS:
            raise ValueError(f"bad mapping {pair!r}: use FIELD=COLUMN with FIELD one of {FIELDS}")
        mapping[field] = column
    return mapping


def _rows(path: Path) -> Iterator[dict[str, Any]]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    else:
        with path.open(newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)


def _timestamp(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_event(row: dict[str, Any], mapping: dict[str, str]) -> events.TicketEventBase | events.AgentEventBase:
    """One row as an event; raises :class:`cxa.events.InvalidEvent` naming the problem."""
    if "event_type" in row and not mapping:
        return events.parse(json.dumps(row).encode())
    values: dict[str, Any] = dict(DEFAULTS)
    for field, column in mapping.items():
        if column not in row:
            raise events.InvalidEvent(f"the file has no column {column!r} (mapped to {field})")
        if row[column] not in (None, ""):
            values[field] = row[column]
    if "ticket_id" not in values or "occurred_at" not in values:
        raise events.InvalidEvent("map at least ticket_id=COLUMN and occurred_at=COLUMN")
    values["occurred_at"] = _timestamp(values["occurred_at"])
    values["event_id"] = uuid.uuid5(NAMESPACE, f"ticket.created:{values['ticket_id']}")
    values["subject"] = str(values["subject"])[:1000]
    try:
        return events.TicketCreated.model_validate(values)
    except ValidationError as exc:
        raise events.InvalidEvent(events.describe(exc)) from exc


def replay(
    path: Path,
    mapping: dict[str, str],
    speed: float,
    emit: Callable[[events.TicketEventBase | events.AgentEventBase], None],
    on_invalid: Callable[[int, str], None],
) -> int:
    """Publish every row in file order; ``speed`` 0 means as fast as possible. Returns the count."""
    first: tuple[datetime, float] | None = None
    published = 0
    for number, row in enumerate(_rows(path), start=1):
        try:
            event = to_event(row, mapping)
        except (events.InvalidEvent, ValueError) as exc:
            on_invalid(number, str(exc))
            continue
        if speed > 0:
            if first is None:
                first = (event.occurred_at, time.monotonic())
            due = first[1] + (event.occurred_at - first[0]).total_seconds() / speed
            time.sleep(max(0.0, due - time.monotonic()))
        emit(event)
        published += 1
    return published
