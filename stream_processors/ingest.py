"""Faust agent ``ingest_events``: validate every source message, dead-letter the bad, sink the good."""

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from datetime import UTC, datetime
from typing import cast

import faust
from faust.streams import Stream
from faust.types import EventT, RecordMetadata, StreamT

from cxa import events
from stream_processors.batches import pack_within
from stream_processors.categorize import wants
from stream_processors.floor_agents import FLOOR_KEY
from stream_processors.settings import WorkerSettings
from stream_processors.sink import Landed, Sink
from stream_processors.validation import deadletter_headers, validate

log = logging.getLogger(__name__)


def register(
    app: faust.App,
    settings: WorkerSettings,
    *,
    source: faust.TopicT,
    deadletter: faust.TopicT,
    sink: Sink,
    floor: faust.TopicT | None = None,
    categorizer: faust.TopicT | None = None,
) -> None:
    """Once a batch is in PostgreSQL, ``floor`` (when given) receives every valid message and
    ``categorizer`` (when given) the ticket events the categoriser needs, both packed in batches."""

    async def send_deadletter(event: EventT, reason: str) -> Awaitable[RecordMetadata]:
        message = event.message
        log.warning("dead-lettered %s[%d]@%d: %s", message.topic, message.partition, message.offset, reason)
        return await deadletter.send(
            key=message.key,
            value=message.value,
            headers=deadletter_headers(
                reason, message.topic, message.partition, message.offset, datetime.now(UTC)
            ),
        )

    async def process(batch: Sequence[EventT]) -> None:
        valid: list[Landed] = []
        accepted: list[bytes | None] = []
        pending = []
        for event in batch:
            message = event.message
            try:
                parsed = validate(message.topic, message.key, message.value)
            except events.InvalidEvent as exc:
                pending.append(await send_deadletter(event, exc.reason))
            except Exception as exc:  # a message must never stop the worker
                log.exception("validation failed unexpectedly")
                pending.append(await send_deadletter(event, f"{type(exc).__name__}: {exc}"))
            else:
                valid.append(Landed(parsed, message.partition, message.offset))
                accepted.append(message.value)  # validated: never None
        await asyncio.gather(*pending)
        await sink.write(valid)
        # Forwarded once in PostgreSQL, and awaited until Kafka has them: a send that fails fails
        # the batch, which is then retried, rather than its offsets being committed regardless.
        forwarded = []
        if floor is not None:
            for packed in pack_within(accepted):
                forwarded.append(await floor.send(key=FLOOR_KEY, value=packed))
        if categorizer is not None:
            # Per source partition, so a ticket's created and labelled events (one key, so one
            # partition) meet in the same partition of the categoriser's topic, in order.
            count = app.consumer.topic_partitions(categorizer.get_topic_name()) or categorizer.partitions or 1
            by_partition: dict[int, list[bytes | None]] = {}
            for landed, value in zip(valid, accepted, strict=True):
                if wants(landed.event):
                    by_partition.setdefault(landed.partition % count, []).append(value)
            for partition, values in by_partition.items():
                for packed in pack_within(values):
                    forwarded.append(await categorizer.send(value=packed, partition=partition))
        await asyncio.gather(*forwarded)

    @app.agent(source, name="ingest_events")
    async def ingest_events(stream: StreamT[bytes]) -> None:
        async for batch in cast(Stream[bytes], stream).take_events(
            settings.sink_batch_size, within=settings.sink_batch_seconds
        ):
            # The batch is acknowledged only when this body returns, so a failure (PostgreSQL
            # or Kafka down) is retried here with backoff: consumption pauses, nothing is lost.
            delay = 0.5
            while True:
                try:
                    await process(batch)
                    break
                except Exception:
                    log.exception("batch of %d failed; retrying in %.1f s", len(batch), delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, settings.retry_max_seconds)
