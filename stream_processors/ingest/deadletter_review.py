"""Dead letters for operators: choose them, show them readably, replay them once the cause is fixed.

Reads ``live.deadletters`` (written by the ingest worker, see ``deadletters.py``). A replay
re-publishes a dead letter to the topic *and partition* it was read from, with its original key and
bytes and a ``cxa.replay.of`` header naming the original; its row is marked ``replayed_at`` only
once Kafka has confirmed the message. So a replay is at-least-once (a crash between Kafka's
confirmation and the mark publishes that message again next time), a second run skips what the
first delivered, and the sink, idempotent by event id, lands a replayed event once whatever happens.
"""

import codecs
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final

import psycopg
from confluent_kafka import KafkaError, KafkaException, Message, Producer
from psycopg.rows import class_row

from cxa import db
from cxa.deadletters import REPLAY_OF_HEADER
from cxa.kafka import producer_config
from cxa.settings import KafkaSettings

PREVIEW_CHARS: Final = 60
KEY_CHARS: Final = 32
REASON_CHARS: Final = 100
_HEAD_BYTES: Final = 4 * PREVIEW_CHARS + 16
"""Bytes of a value read for its preview: enough for the preview's characters in any UTF-8."""

_DURATION_PART = re.compile(r"(\d+)([smhdw])")
_DURATION = re.compile(r"(?:\d+[smhdw])+")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


# --- choosing -----------------------------------------------------------------------------------
def parse_since(text: str, now: datetime) -> datetime:
    """The moment ``text`` names: an ISO-8601 time (UTC unless it says otherwise) or a duration
    before ``now`` such as ``30m``, ``2h``, ``7d`` or ``1h30m`` (units s, m, h, d, w).

    >>> now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    >>> parse_since("90m", now).isoformat()
    '2026-03-02T10:30:00+00:00'
    >>> parse_since("2026-03-01T08:00+01:00", now).isoformat()
    '2026-03-01T07:00:00+00:00'
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    value = text.strip().lower()
    if _DURATION.fullmatch(value):
        delta = timedelta()
        for amount, unit in _DURATION_PART.findall(value):
            delta += timedelta(**{_UNITS[unit]: int(amount)})
        return now - delta
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither an ISO-8601 time (2026-03-01T08:00:00+01:00, or UTC without an "
            "offset) nor a duration (30m, 2h, 7d)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Selection:
    """Which dead letters: each criterion given narrows the choice (all of them must hold)."""

    since: datetime | None = None
    """Dead-lettered at or after this moment."""
    reason: str | None = None
    """The kind exactly (``too_large``), or a case-insensitive part of the reason."""
    origin_topic: str | None = None
    include_replayed: bool = False

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition on ``live.deadletters`` and its parameters (values never in the SQL)."""
        conditions: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            if self.since.tzinfo is None:
                raise ValueError("since must be timezone-aware")
            conditions.append("dead_lettered_at >= %s")
            params.append(self.since)
        if self.reason:
            # strpos rather than ILIKE: the text is matched literally, '_' and '%' included.
            conditions.append("(kind = %s OR strpos(lower(reason), lower(%s)) > 0)")
            params += [self.reason, self.reason]
        if self.origin_topic:
            conditions.append("origin_topic = %s")
            params.append(self.origin_topic)
        if not self.include_replayed:
            conditions.append("replayed_at IS NULL")
        return " AND ".join(conditions) or "TRUE", params


# --- reading ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DeadLetterRow:
    """A dead letter as listed: its value only as far as a preview needs."""

    origin_topic: str
    origin_partition: int
    origin_offset: int
    kind: str
    reason: str
    message_key: bytes | None
    value_head: bytes | None
    value_bytes: int
    is_truncated: bool
    dead_lettered_at: datetime
    replayed_at: datetime | None

    @property
    def origin(self) -> str:
        return origin_label(self.origin_topic, self.origin_partition, self.origin_offset)


def origin_label(topic: str, partition: int, offset: int) -> str:
    """Where a message was read, as ``topic[partition]@offset``."""
    return f"{topic}[{partition}]@{offset}"


_LIST_SQL = f"""
SELECT origin_topic, origin_partition, origin_offset, kind, reason, message_key,
       substring(message_value FROM 1 FOR {_HEAD_BYTES}) AS value_head, value_bytes, is_truncated,
       dead_lettered_at, replayed_at
FROM live.deadletters WHERE {{where}}
ORDER BY dead_lettered_at DESC, origin_topic, origin_partition, origin_offset DESC
LIMIT %s
"""


def list_deadletters(conn: psycopg.Connection, selection: Selection, limit: int) -> list[DeadLetterRow]:
    """The chosen dead letters, newest first, at most ``limit``."""
    where, params = selection.where()
    with conn.cursor(row_factory=class_row(DeadLetterRow)) as cursor:
        return cursor.execute(_LIST_SQL.format(where=where), [*params, limit]).fetchall()


@dataclass(frozen=True)
class KindCount:
    kind: str
    dead_letters: int
    replayed: int


def count_by_kind(conn: psycopg.Connection, selection: Selection) -> list[KindCount]:
    """How many dead letters of each kind the selection holds, the commonest first."""
    where, params = selection.where()
    with conn.cursor(row_factory=class_row(KindCount)) as cursor:
        return cursor.execute(
            "SELECT kind, count(*) AS dead_letters, count(replayed_at) AS replayed"
            f" FROM live.deadletters WHERE {where} GROUP BY kind ORDER BY 2 DESC, 1",
            params,
        ).fetchall()


def summary_line(counts: Sequence[KindCount], shown: int, include_replayed: bool) -> str:
    """One line: how many dead letters match, per kind, and how many of them are listed.

    >>> summary_line([KindCount("too_large", 3, 1), KindCount("schema", 1, 0)], 4, include_replayed=True)
    '4 dead letters (1 replayed): too_large 3, schema 1; showing 4'
    """
    total = sum(count.dead_letters for count in counts)
    if not total:
        return "no dead letters" + ("" if include_replayed else " waiting for a replay")
    replayed = sum(count.replayed for count in counts)
    noun = "dead letter" if total == 1 else "dead letters"
    state = f" ({replayed:,} replayed)" if include_replayed else " not replayed"
    kinds = ", ".join(f"{count.kind} {count.dead_letters:,}" for count in counts)
    showing = f"showing {shown:,}" if shown == total else f"showing the newest {shown:,}"
    return f"{total:,} {noun}{state}: {kinds}; {showing}"


# --- showing ------------------------------------------------------------------------------------
def readable(text: str) -> str:
    r"""``text`` safe for a terminal: every non-printable character (controls such as NUL, escape
    or newline, format characters such as bidi overrides, unusual spaces) shown as its escape.

    >>> print(readable("a\x00b\n\x1b[31m\u202e\u00a0é"))
    a\x00b\n\x1b[31m\u202e\xa0é
    """
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text
    )


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut.

    >>> shorten("abcdef", 4), shorten("abc", 4)
    ('abc…', 'abc')
    """
    if width < 1:
        raise ValueError("width must be at least 1")
    return text if len(text) <= width else text[: width - 1] + "…"


def decoded(data: bytes, *, complete: bool = True) -> str:
    """``data`` as UTF-8, invalid bytes replaced; when not ``complete`` (a prefix of a longer
    value) a character cut in two at the end is dropped rather than shown as a replacement."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(data, final=complete)


def key_text(key: bytes | None, width: int = KEY_CHARS) -> str:
    """A message key for display: decoded, made readable, shortened."""
    if key is None:
        return "(no key)"
    return shorten(readable(decoded(key)), width)


def preview(head: bytes | None, value_bytes: int, width: int = PREVIEW_CHARS) -> str:
    r"""The start of a value for display (``head`` is its first bytes, ``value_bytes`` its size):
    decoded, made readable, and at most ``width`` characters, ending with an ellipsis when more
    follows.

    >>> print(preview(b'{"body": "\x00\xff"}', 14), preview(b"0123456789", 5000, width=6))
    {"body": "\x00�"} 01234…
    """
    if head is None:
        return "(no value)"
    text = readable(decoded(head, complete=len(head) >= value_bytes))
    if len(head) < value_bytes and len(text) < width:
        return text + "…"
    return shorten(text, width)


def when_text(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S}"


# --- replaying ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReplayCandidate:
    """A chosen dead letter as replay reads it (its value only when it is to be replayed)."""

    origin_topic: str
    origin_partition: int
    origin_offset: int
    kind: str
    message_key: bytes | None
    message_value: bytes | None
    value_bytes: int
    stored_bytes: int
    is_truncated: bool
    dead_lettered_at: datetime
    replayed_at: datetime | None

    @property
    def origin(self) -> str:
        return origin_label(self.origin_topic, self.origin_partition, self.origin_offset)

    @property
    def replay_of(self) -> bytes:
        """The ``cxa.replay.of`` header: ``topic/partition/offset`` of the original."""
        return f"{self.origin_topic}/{self.origin_partition}/{self.origin_offset}".encode()


@dataclass
class ReplayReport:
    """What a replay did (or, in a dry run, would do); updated batch by batch. The dead letters it
    names are kept without their values."""

    replayed: list[ReplayCandidate] = field(default_factory=list)
    """Confirmed by Kafka and marked (in a dry run: those that would be replayed)."""
    already_replayed: int = 0
    truncated: list[ReplayCandidate] = field(default_factory=list)
    """Skipped: their value was cut short when dead-lettered, so the original is lost."""
    failed: list[tuple[ReplayCandidate, str]] = field(default_factory=list)
    """Refused by Kafka, or not confirmed in time: not marked, so the next replay tries again."""
    from_gateway: list[ReplayCandidate] = field(default_factory=list)
    """Skipped: bodies the ingest gateway refused (origin ``webhook/<vendor>`` or ``http/events``),
    not Kafka records; the helpdesk or client sends them again once the cause is fixed."""

    @property
    def skipped(self) -> int:
        return self.already_replayed + len(self.truncated) + len(self.from_gateway)

    def summary(self, dry_run: bool = False) -> str:
        """
        >>> ReplayReport(already_replayed=2).summary()
        'replayed 0, skipped 2 (2 already replayed, 0 truncated)'
        """
        verb = "would replay" if dry_run else "replayed"
        gateway = f", {len(self.from_gateway):,} from the gateway" if self.from_gateway else ""
        text = (
            f"{verb} {len(self.replayed):,}, skipped {self.skipped:,} "
            f"({self.already_replayed:,} already replayed, {len(self.truncated):,} truncated{gateway})"
        )
        return text + (f", failed {len(self.failed):,}" if self.failed else "")


_CANDIDATES_SQL = """
SELECT origin_topic, origin_partition, origin_offset, kind, message_key,
       CASE WHEN is_truncated OR (replayed_at IS NOT NULL AND NOT %s) THEN NULL ELSE message_value END
           AS message_value,
       value_bytes, coalesce(octet_length(message_value), 0) AS stored_bytes, is_truncated,
       dead_lettered_at, replayed_at
FROM live.deadletters
WHERE {where} AND (origin_topic, origin_partition, origin_offset) > (%s, %s, %s)
ORDER BY origin_topic, origin_partition, origin_offset
LIMIT %s
{lock}
"""

_MARK_SQL = """
UPDATE live.deadletters SET replayed_at = now()
WHERE (origin_topic, origin_partition, origin_offset) IN
      (SELECT * FROM unnest(%s::text[], %s::integer[], %s::bigint[]))
"""


def replay(
    database_url: str,
    kafka: KafkaSettings,
    selection: Selection,
    *,
    again: bool = False,
    dry_run: bool = False,
    batch_size: int = 500,
    confirm_seconds: float = 75.0,
    on_batch: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """Re-publish the chosen dead letters to where they were read from, oldest offset first.

    Dead letters already replayed are skipped unless ``again``; truncated ones always are. Each
    batch is one transaction: its rows are locked (a concurrent replay waits, then skips them),
    published, and those Kafka confirmed within ``confirm_seconds`` are marked replayed. A dry run
    reads, locks nothing and publishes nothing.
    """
    chosen = replace(selection, include_replayed=True)  # replayed ones are counted as skipped
    where, params = chosen.where()
    sql = _CANDIDATES_SQL.format(where=where, lock="" if dry_run else "FOR UPDATE")
    report = ReplayReport()
    producer = None if dry_run else Producer(producer_config(kafka))
    after: tuple[str, int, int] = ("", -1, -1)
    with db.connect(database_url, autocommit=True) as conn:
        while True:
            with conn.transaction(), conn.cursor(row_factory=class_row(ReplayCandidate)) as cursor:
                rows = cursor.execute(sql, [again, *params, *after, batch_size]).fetchall()
                if not rows:
                    break
                last = rows[-1]
                after = (last.origin_topic, last.origin_partition, last.origin_offset)
                due: list[ReplayCandidate] = []
                for row in rows:
                    if "/" in row.origin_topic:  # no Kafka topic name has one: the gateway's origins
                        report.from_gateway.append(replace(row, message_value=None))
                    elif row.is_truncated:
                        report.truncated.append(row)
                    elif row.replayed_at is not None and not again:
                        report.already_replayed += 1
                    else:
                        due.append(row)
                confirmed, failed = (
                    (due, []) if producer is None else _publish(producer, due, confirm_seconds)
                )
                if confirmed and producer is not None:
                    cursor.execute(
                        _MARK_SQL,
                        [
                            [row.origin_topic for row in confirmed],
                            [row.origin_partition for row in confirmed],
                            [row.origin_offset for row in confirmed],
                        ],
                    )
                report.replayed += [replace(row, message_value=None) for row in confirmed]
                report.failed += [(replace(row, message_value=None), why) for row, why in failed]
            if on_batch is not None:
                on_batch(report)
            if due and not confirmed:
                break  # Kafka took none of a whole batch: it would refuse the rest too
    return report


def _publish(
    producer: Producer, rows: Sequence[ReplayCandidate], confirm_seconds: float
) -> tuple[list[ReplayCandidate], list[tuple[ReplayCandidate, str]]]:
    """Publish ``rows`` and wait for Kafka: (the confirmed, the refused or unconfirmed with why)."""
    confirmed: list[ReplayCandidate] = []
    failed: list[tuple[ReplayCandidate, str]] = []
    answered: set[int] = set()

    def delivered(row: ReplayCandidate, error: KafkaError | None, _: Message) -> None:
        answered.add(id(row))
        if error is None:
            confirmed.append(row)
        else:
            failed.append((row, error.str()))

    for row in rows:
        while True:
            try:
                producer.produce(
                    row.origin_topic,
                    value=row.message_value,
                    key=row.message_key,
                    partition=row.origin_partition,
                    headers=[(REPLAY_OF_HEADER, row.replay_of)],
                    on_delivery=partial(delivered, row),
                )
                break
            except BufferError:  # the local queue is full: wait for deliveries to make room
                producer.poll(0.1)
            except KafkaException as exc:
                answered.add(id(row))
                failed.append((row, str(exc)))
                break
        producer.poll(0)
    producer.flush(confirm_seconds)
    failed += [
        (row, f"not confirmed by Kafka within {confirm_seconds:.0f} s")
        for row in rows
        if id(row) not in answered
    ]
    return confirmed, failed
