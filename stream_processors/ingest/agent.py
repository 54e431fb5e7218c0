"""Faust agent ``ingest_events``: every source message, in batches, through the ingest handler."""

from typing import cast

import faust
from faust.streams import Stream
from faust.types import StreamT

from stream_processors.ingest.deadletters import Source
from stream_processors.ingest.handler import IngestHandler
from stream_processors.settings import WorkerSettings


def register(
    app: faust.App, settings: WorkerSettings, *, source: faust.TopicT, handler: IngestHandler
) -> None:
    @app.agent(source, name="ingest_events")
    async def ingest_events(stream: StreamT[bytes]) -> None:
        # A batch is acknowledged (its offsets committed) only once the handler returns: when every
        # message is in PostgreSQL and forwarded, or dead-lettered.
        async for batch in cast(Stream[bytes], stream).take_events(
            settings.sink_batch_size, within=settings.sink_batch_seconds
        ):
            sources = [
                Source(e.message.topic, e.message.partition, e.message.offset, e.message.key, e.message.value)
                for e in batch
            ]
            try:
                await handler.handle(sources)
            except BaseException:
                # Stopped mid-batch (SIGTERM cancels the agent): take_events acks the batch on its
                # way out, which would mark offsets of messages that never landed as done. Marked as
                # acknowledged already, its final ack records nothing for them.
                for event in batch:
                    event.message.acked = True
                raise
