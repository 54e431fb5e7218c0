"""Dead letters: a refused message goes to ``cxa.deadletter`` (bounded) and once into ``live.deadletters``.

The Kafka record keeps the original key and bytes, so any consumer can inspect or re-publish it;
its headers say why and where from. It never exceeds the broker's record limit: the reason is cut
to 1 KiB, the key to 1 KiB and the value to ``CXA_WORKER_DEADLETTER_MAX_BYTES``, and a cut value
says so (header ``cxa.value.truncated``: the original size). The table row is keyed by the
message's origin, so however often its batch is retried, or redelivered after a crash, a refused
message is recorded once: the table is what operators list and replay (``cxa deadletter``) and what
the wall board counts.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cxa import deadletters
from cxa.db import LazyAsyncPool
from cxa.deadletters import Refusal

KEY_MAX_BYTES = 1024


@dataclass(frozen=True)
class Source:
    """A message as read from Kafka."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    source: Source
    kind: Refusal
    reason: str
    at: datetime


@dataclass(frozen=True)
class Outgoing:
    """A message to publish: where, and what."""

    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int | None = None


@dataclass(frozen=True)
class Bounded:
    """A dead letter's key and value cut to their bounds, with their sizes as sent."""

    key: bytes | None
    value: bytes | None
    key_bytes: int
    value_bytes: int

    @property
    def key_cut(self) -> bool:
        return self.key_bytes > len(self.key or b"")

    @property
    def value_cut(self) -> bool:
        return self.value_bytes > len(self.value or b"")


def bounded(source: Source, max_value_bytes: int) -> Bounded:
    """The key cut to ``KEY_MAX_BYTES`` and the value to ``max_value_bytes``: the same cut for the
    Kafka record and the table row."""
    key, value = source.key, source.value
    return Bounded(
        key=key[:KEY_MAX_BYTES] if key is not None else None,
        value=value[:max_value_bytes] if value is not None else None,
        key_bytes=len(key or b""),
        value_bytes=len(value or b""),
    )


def deadletter_message(letter: DeadLetter, max_value_bytes: int) -> Outgoing:
    """The Kafka record of a dead letter: original key and bytes (cut to size), reason and origin.

    >>> from datetime import UTC, datetime
    >>> letter = DeadLetter(Source("tickets.events", 3, 42, b"T1", b"x" * 10), Refusal.TOO_LARGE, "big",
    ...                     datetime(2026, 3, 1, tzinfo=UTC))
    >>> message = deadletter_message(letter, max_value_bytes=4)
    >>> message.value, dict(message.headers)["cxa.value.truncated"]
    (b'xxxx', b'10')
    """
    source = letter.source
    headers = [
        (deadletters.REASON_HEADER, deadletters.cap_reason(letter.reason).encode("utf-8")),
        (deadletters.KIND_HEADER, letter.kind.value.encode()),
        (deadletters.ORIGIN_TOPIC_HEADER, source.topic.encode("utf-8")),
        (deadletters.ORIGIN_PARTITION_HEADER, str(source.partition).encode()),
        (deadletters.ORIGIN_OFFSET_HEADER, str(source.offset).encode()),
        (deadletters.AT_HEADER, letter.at.isoformat().encode()),
    ]
    cut = bounded(source, max_value_bytes)
    if cut.value is None:  # Kafka takes no record without key and value: keep it empty, and say so
        headers.append((deadletters.NULL_VALUE_HEADER, b"1"))
    elif cut.value_cut:
        headers.append((deadletters.TRUNCATED_HEADER, str(cut.value_bytes).encode()))
    if cut.key_cut:
        headers.append((deadletters.KEY_TRUNCATED_HEADER, str(cut.key_bytes).encode()))
    return Outgoing(key=cut.key, value=cut.value if cut.value is not None else b"", headers=tuple(headers))


class DeadLetterStore(Protocol):
    async def record(self, letters: Sequence[DeadLetter], max_value_bytes: int) -> None: ...


_RECORD_SQL = """
INSERT INTO live.deadletters
    (origin_topic, origin_partition, origin_offset, kind, reason, message_key, message_value,
     value_bytes, is_truncated, dead_lettered_at)
SELECT * FROM unnest(
    %s::text[], %s::integer[], %s::bigint[], %s::text[], %s::text[], %s::bytea[], %s::bytea[],
    %s::integer[], %s::boolean[], %s::timestamptz[]
)
ON CONFLICT (origin_topic, origin_partition, origin_offset) DO NOTHING
"""


class PostgresDeadLetters:
    """Records dead letters in ``live.deadletters``, once per origin."""

    def __init__(self, database_url: str) -> None:
        self._database = LazyAsyncPool(database_url)

    async def close(self) -> None:
        await self._database.close()

    async def record(self, letters: Sequence[DeadLetter], max_value_bytes: int) -> None:
        if not letters:
            return
        columns: list[list[object]] = [[] for _ in range(10)]
        for letter in letters:
            source = letter.source
            cut = bounded(source, max_value_bytes)
            row = (
                source.topic,
                source.partition,
                source.offset,
                letter.kind.value,
                deadletters.cap_reason(letter.reason),
                cut.key,
                cut.value,
                cut.value_bytes,
                cut.value_cut or cut.key_cut,
                letter.at,
            )
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        pool = await self._database.opened()
        async with pool.connection() as conn, conn.cursor() as cursor:
            await cursor.execute(_RECORD_SQL, columns)
