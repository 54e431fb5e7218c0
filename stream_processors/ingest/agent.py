"""Faust agent ``ingest_events``: every source message, in batches, through the ingest handler."""

import faust
from faust.types import StreamT

from stream_processors.ingest.deadletters import Source
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
