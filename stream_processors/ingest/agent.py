"""Faust agents ``ingest_events`` (every source message, in batches, through the ingest handler)
and ``record_gateway_deadletters`` (the gateway's dead letters into live.deadletters)."""

from collections.abc import Iterable, Mapping

import faust
from faust.types import StreamT

from stream_processors.ingest.deadletters import Source
from stream_processors.ingest.gateway_deadletters import GatewayDeadLetters
from stream_processors.ingest.handler import IngestHandler
from stream_processors.settings import WorkerSettings
from stream_processors.transport import acknowledged_batches


def register(
    app: faust.App, settings: WorkerSettings, *, source: faust.TopicT, handler: IngestHandler
) -> None:
    @app.agent(source, name="ingest_events")
    async def ingest_events(stream: StreamT[bytes]) -> None:
        # A batch is acknowledged only once the handler returns: when every message is in PostgreSQL
        # and forwarded, or dead-lettered. Stopped before that, the batch comes again after a restart.
        async for batch in acknowledged_batches(
            stream, settings.sink_batch_size, within=settings.sink_batch_seconds
        ):
            messages = [event.message for event in batch]
            await handler.handle([Source(m.topic, m.partition, m.offset, m.key, m.value) for m in messages])


def register_gateway_deadletters(
    app: faust.App, settings: WorkerSettings, *, deadletters: faust.TopicT, handler: GatewayDeadLetters
) -> None:
    @app.agent(deadletters, name="record_gateway_deadletters")
    async def record_gateway_deadletters(stream: StreamT[bytes]) -> None:
        async for batch in acknowledged_batches(
            stream, settings.sink_batch_size, within=settings.sink_batch_seconds
        ):
            messages = [event.message for event in batch]
            await handler.handle(
                [
                    (Source(m.topic, m.partition, m.offset, m.key, m.value), _headers(m.headers))
                    for m in messages
                ]
            )


def _headers(headers: Mapping[str, bytes] | Iterable[tuple[str, bytes]] | None) -> list[tuple[str, bytes]]:
    """A record's headers as (name, bytes) pairs, whichever shape the client gave them in."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or [])
    return [(str(name), bytes(value)) for name, value in pairs]
