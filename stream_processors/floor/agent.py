"""Faust agent of the floor: ``run_floor`` keeps the live state, routes and writes the board.

All validated events and predictions are funnelled into the one-partition ``<app id>-floor`` topic, so
exactly one worker (that partition's owner) holds the floor in changelog-backed tables and routes
with a global view of waiting tickets and support agents; when it dies, another worker takes the
partition over and restores the tables from their changelogs. Every worker sends a tick to the
topic each interval, so routing and the board go on while no events arrive. The work is
:class:`~stream_processors.floor.handler.FloorHandler`'s.
"""

import logging
from typing import Any

import faust
from faust.types import StreamT

from stream_processors.floor.handler import FLOOR_KEY, TICK, FloorHandler, PublishRouted
from stream_processors.floor.store import FloorStore
from stream_processors.settings import WorkerSettings
from stream_processors.transport import acknowledged_batches

log = logging.getLogger(__name__)


class OnePartitionTable(faust.Table):
    """A table of one partition, whose changelog writes name that partition. Faust's own choices
    need either the current event's topic (none in a batch) or the changelog topic's metadata, which
    a producer may not have yet right after the topic was created: the write then fails."""

    def partition_for_key(self, key: Any) -> int:
        return 0


def register(
    app: faust.App,
    settings: WorkerSettings,
    *,
    floor: faust.TopicT,
    publish_routed: PublishRouted,
    store: FloorStore,
) -> FloorHandler:
    tables = [
        OnePartitionTable(app, name=f"floor-{name}", default=None, partitions=1, beacon=app.tables.beacon)
        for name in ("tickets", "agents", "counters")
    ]
    for table in tables:
        app.tables.add(table)
    handler = FloorHandler(
        settings,
        tables=tables,
        publish_routed=publish_routed,
        store=store,
        generation=lambda: app.consumer_generation_id,
    )

    @app.timer(interval=settings.routing_interval_seconds)
    async def tick_floor() -> None:
        try:  # a timer that raises crashes the whole worker; a lost tick costs nothing
            await floor.send(key=FLOOR_KEY, value=TICK)
        except Exception as exc:
            log.warning("could not tick the floor (%s: %s)", type(exc).__name__, exc)

    @app.agent(floor, name="run_floor")
    async def run_floor(stream: StreamT[bytes]) -> None:
        async for batch in acknowledged_batches(stream, 1000, within=settings.routing_interval_seconds / 4):
            await handler.handle([event.value for event in batch])

    return handler
