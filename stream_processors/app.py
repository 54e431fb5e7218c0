"""The Faust app: one per worker process, built from settings at the entry point."""

from collections.abc import Sequence

import faust

from cxa import events, topics
from stream_processors.categorizer import agent as categorize
from stream_processors.categorizer.handler import (
    CategorizerHandler,
    PublishLabels,
    PublishPredictions,
    wants,
)
from stream_processors.categorizer.labels import Labelled
from stream_processors.categorizer.labels import encode_within as encode_labels_within
from stream_processors.categorizer.store import CategorizerStore, PostgresCategorizerStore
from stream_processors.floor import agent as floor_agents
from stream_processors.floor.handler import FLOOR_KEY, PublishRouted
from stream_processors.floor.store import FloorStore, PostgresFloorStore
from stream_processors.ingest import agent as ingest
from stream_processors.ingest.deadletters import DeadLetterStore, Outgoing, PostgresDeadLetters
from stream_processors.ingest.gateway_deadletters import GatewayDeadLetters
from stream_processors.ingest.handler import Forward, IngestHandler
from stream_processors.ingest.sink import EventSink, Landed, Sink
from stream_processors.packing import pack_within
from stream_processors.settings import WorkerSettings
from stream_processors.transport import publisher, use_worker_transport

LABELS_KEY = b"labels"  # one partition: the key only names what the messages are


def raw_topic(
    app: faust.App, *names: str, partitions: int | None = None, internal: bool = False
) -> faust.TopicT:
    """A topic whose keys and values stay bytes: the agents parse (and dead-letter) themselves."""
    return app.topic(
        *names,
        partitions=partitions,
        internal=internal,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )


def create_app(
    settings: WorkerSettings,
    sink: Sink | None = None,
    categorizer_store: CategorizerStore | None = None,
    floor_store: FloorStore | None = None,
    deadletter_store: DeadLetterStore | None = None,
) -> faust.App:
    """The worker's app; the stores given replace the PostgreSQL ones (agent tests)."""
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka.bootstrap_servers.split(",")],
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=settings.kafka.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        # Faust's 20 minutes is also how long a batch sent to a broker that died is awaited before it
        # expires: the agent that sent it waits that long. Expired sooner, the send fails (a transient
        # failure, retried) and the batch goes again once the broker is back.
        producer_request_timeout=settings.send_timeout_seconds,
        broker_commit_interval=1.0,
        # Stop (or rebalance) without waiting for batches in progress, one of which may be retrying
        # while PostgreSQL is down, rather than holding a SIGTERM or the group's rebalance for minutes.
        stream_wait_empty=False,
        broker_session_timeout=settings.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.session_timeout_seconds / 3),
        web_enabled=settings.web_enabled,
        web_port=settings.web_port,
    )
    use_worker_transport(app, settings.fetch_max_wait_ms)
    source = raw_topic(app, *topics.SOURCE_TOPICS)
    deadletter = raw_topic(app, topics.DEADLETTER)
    floor = raw_topic(app, topics.floor_topic(settings.app_id), partitions=1, internal=True)
    to_categorize = raw_topic(
        app,
        topics.categorizer_tickets_topic(settings.app_id),
        partitions=settings.kafka.partitions,
        internal=True,
    )
    forwards: list[Forward] = []
    if settings.routing_enabled:
        forwards.append(_to_floor(floor))
    if settings.categorizer_enabled:
        forwards.append(_to_categorizer(app, to_categorize))
    handler = IngestHandler(
        sink=sink or EventSink(settings.database.url),
        publish_deadletters=publisher(deadletter),
        deadletter_store=deadletter_store or PostgresDeadLetters(settings.database.url),
        forwards=forwards,
        limits=settings.limits,
        deadletter_max_bytes=settings.deadletter_max_bytes,
        retry_max_seconds=settings.retry_max_seconds,
    )
    ingest.register(app, settings, source=source, handler=handler)
    ingest.register_gateway_deadletters(
        app,
        settings,
        deadletters=deadletter,
        handler=GatewayDeadLetters(
            handler.deadletter_store,
            topics.SOURCE_TOPICS,
            settings.deadletter_max_bytes,
            settings.retry_max_seconds,
        ),
    )
    if settings.routing_enabled:
        floor_agents.register(
            app,
            settings,
            floor=floor,
            publish_routed=_routed_out(raw_topic(app, topics.TICKETS_ROUTED)),
            store=floor_store or PostgresFloorStore(settings.database.url),
        )
    if settings.categorizer_enabled:
        labels = raw_topic(app, topics.categorizer_labels_topic(settings.app_id), partitions=1, internal=True)
        categorize.register(
            app,
            settings,
            tickets=to_categorize,
            labels=labels,
            handler=CategorizerHandler(
                settings,
                categorizer_store or PostgresCategorizerStore(settings.database.url),
                publish_predictions=_predictions_out(
                    raw_topic(app, topics.TICKETS_CATEGORIZED), floor if settings.routing_enabled else None
                ),
                publish_labels=_labels_out(labels),
            ),
        )
    return app


def _to_floor(floor: faust.TopicT) -> Forward:
    """Every landed event, packed in batches, to the floor's one partition."""
    publish = publisher(floor)

    async def forward(landed: Sequence[Landed]) -> None:
        packed = pack_within([item.source.value for item in landed])
        await publish([Outgoing(FLOOR_KEY, value) for value in packed])

    return forward


def _predictions_out(predictions: faust.TopicT, floor: faust.TopicT | None) -> PublishPredictions:
    """Predictions to their topic (keyed by ticket) and, when this app routes, straight to the floor."""
    publish = publisher(predictions)
    to_floor = publisher(floor) if floor is not None else None

    async def out(predicted: Sequence[events.CategoryPredicted]) -> None:
        values = [events.serialize(prediction) for prediction in predicted]
        await publish(
            [Outgoing(p.ticket_id.encode(), value) for p, value in zip(predicted, values, strict=True)]
        )
        if to_floor is not None:
            await to_floor([Outgoing(FLOOR_KEY, packed) for packed in pack_within(values)])

    return out


def _routed_out(routed: faust.TopicT) -> PublishRouted:
    """Routing decisions to ``tickets.routed``, keyed by ticket."""
    publish = publisher(routed)

    async def out(decided: Sequence[events.TicketRouted]) -> None:
        await publish([Outgoing(e.ticket_id.encode(), events.serialize(e)) for e in decided])

    return out


def _labels_out(labels: faust.TopicT) -> PublishLabels:
    """Learning examples to the one-partition labels topic, in messages within Kafka's limit."""
    publish = publisher(labels)

    async def out(examples: Sequence[Labelled]) -> None:
        await publish([Outgoing(LABELS_KEY, message) for message in encode_labels_within(examples)])

    return out


def _to_categorizer(app: faust.App, topic: faust.TopicT) -> Forward:
    """The ticket events the categorizer needs, packed per source partition, so that a ticket's
    created and labelled events (one key, so one partition) meet in one partition, in order."""
    publish = publisher(topic)

    async def forward(landed: Sequence[Landed]) -> None:
        count = app.consumer.topic_partitions(topic.get_topic_name()) or topic.partitions or 1
        by_partition: dict[int, list[bytes | None]] = {}
        for item in landed:
            if wants(item.event):
                by_partition.setdefault(item.source.partition % count, []).append(item.source.value)
        await publish(
            [
                Outgoing(None, packed, partition=partition)
                for partition, values in by_partition.items()
                for packed in pack_within(values)
            ]
        )

    return forward
