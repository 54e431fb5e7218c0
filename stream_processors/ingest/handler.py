"""The ingest handler: validate a batch of source messages, dead-letter the bad, sink and forward the good.

No message stops a partition. Each step of a batch (dead-lettering, writing to PostgreSQL, each
forward) is retried on its own while it fails *transiently* (the database or broker away:
consumption pauses, nothing is lost), so a retry never repeats an earlier step: a message is
dead-lettered once. A *permanent* failure (PostgreSQL refuses a row, Kafka a record, a handler bug)
splits the batch in halves until the offending events are alone; those are dead-lettered with the
reason and the rest goes on.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from cxa import events
from cxa.deadletters import Refusal
from stream_processors.ingest.deadletters import (
    DeadLetter,
    DeadLetterStore,
    Outgoing,
    Source,
    deadletter_message,
)
from stream_processors.ingest.sink import Landed, Sink
from stream_processors.ingest.validation import DEFAULT_LIMITS, Limits, validate
from stream_processors.retrying import isolating, refusal_of, retrying

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]
"""Sends messages to one topic and returns once Kafka has every one of them."""

Forward = Callable[[Sequence[Landed]], Awaitable[None]]
"""Passes landed events on (to the floor, to the categorizer), returning once Kafka has them."""


class IngestHandler:
    """What ``ingest_events`` does with each batch; plain async code, called directly by tests."""

    def __init__(
        self,
        *,
        sink: Sink,
        publish_deadletters: Publish,
        deadletter_store: DeadLetterStore,
        forwards: Sequence[Forward] = (),
        limits: Limits = DEFAULT_LIMITS,
        deadletter_max_bytes: int = 512 * 1024,
        retry_max_seconds: float = 30.0,
    ) -> None:
        self.sink = sink
        self.publish_deadletters = publish_deadletters
        self.deadletter_store = deadletter_store
        self.forwards = list(forwards)
        self.limits = limits
        self.deadletter_max_bytes = deadletter_max_bytes
        self.retry_max_seconds = retry_max_seconds

    async def handle(self, messages: Sequence[Source]) -> None:
        """Process one batch; returns once every message is landed and forwarded, or dead-lettered."""
        now = datetime.now(UTC)
        valid: list[Landed] = []
        refused: list[DeadLetter] = []
        for message in messages:
            try:
                event = validate(message.topic, message.key, message.value, now=now, limits=self.limits)
            except events.InvalidEvent as exc:
                refused.append(DeadLetter(message, exc.kind, exc.reason, now))
            except Exception as exc:  # a bug must not stop the partition: this message alone is refused
                log.exception("validation failed unexpectedly")
                refused.append(DeadLetter(message, Refusal.HANDLER_ERROR, _describe(exc), now))
            else:
                valid.append(Landed(event, message))
        await self.deadletter(refused)
        conflicts: list[Landed] = []

        async def write(items: Sequence[Landed]) -> None:
            conflicts.extend(await self.sink.write(items))

        stored = await self._isolating(valid, write, "writing to PostgreSQL")
        if conflicts:
            await self.deadletter(
                [
                    DeadLetter(
                        item.source,
                        Refusal.DUPLICATE_ID,
                        f"event_id {item.event.event_id} already landed with other content",
                        now,
                    )
                    for item in conflicts
                ]
            )
            conflicting = {id(item) for item in conflicts}
            stored = [item for item in stored if id(item) not in conflicting]
        for forward in self.forwards:  # what one forward refused (and dead-lettered) goes no further
            stored = await self._isolating(stored, forward, "forwarding")

    async def deadletter(self, letters: Sequence[DeadLetter]) -> None:
        """Publish and record dead letters, each step retried on its own so that neither repeats."""
        if not letters:
            return
        for letter in letters:
            log.warning(
                "dead-lettered %s[%d]@%d (%s): %s",
                letter.source.topic,
                letter.source.partition,
                letter.source.offset,
                letter.kind.value,
                letter.reason[:300],
            )
        messages = [deadletter_message(letter, self.deadletter_max_bytes) for letter in letters]
        # Dead letters are bounded, so a refusal of one is the broker's or database's configuration,
        # not the message: keep trying (with the fix in the log) rather than lose it.
        await retrying(
            lambda: self.publish_deadletters(messages),
            what="publishing dead letters (if the broker refuses them as too large, lower "
            "CXA_WORKER_DEADLETTER_MAX_BYTES below its message.max.bytes)",
            max_delay=self.retry_max_seconds,
            retry_all=True,
        )
        await retrying(
            lambda: self.deadletter_store.record(letters, self.deadletter_max_bytes),
            what="recording dead letters in live.deadletters",
            max_delay=self.retry_max_seconds,
            retry_all=True,
        )

    async def _isolating(
        self, items: Sequence[Landed], step: Callable[[Sequence[Landed]], Awaitable[None]], what: str
    ) -> list[Landed]:
        async def refuse(item: Landed, exc: Exception) -> None:
            reason = f"{what}: {_describe(exc)}"
            await self.deadletter([DeadLetter(item.source, refusal_of(exc), reason, datetime.now(UTC))])

        return await isolating(items, step, what=what, max_delay=self.retry_max_seconds, refuse=refuse)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
