"""The Faust app: one per worker process, built from settings at the entry point."""

import faust

from cxa import topics
from stream_processors import categorize, floor_agents, ingest
from stream_processors.categorizer_store import CategorizerStore, PostgresCategorizerStore
from stream_processors.floor_store import FloorStore, PostgresFloorStore
from stream_processors.settings import WorkerSettings
from stream_processors.sink import EventSink, Sink
from stream_processors.transport import use_worker_transport


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
) -> faust.App:
    """The worker's app; ``sink`` and ``categorizer_store`` replace the PostgreSQL ones (agent tests)."""
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{server}" for server in settings.kafka.bootstrap_servers.split(",")],
        store="memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=settings.kafka.replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_commit_interval=1.0,
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
        categorize.tickets_topic_name(settings.app_id),
        partitions=settings.kafka.partitions,
        internal=True,
    )
    ingest.register(
        app,
        settings,
        source=source,
        deadletter=deadletter,
        sink=sink or EventSink(settings.database.url),
        floor=floor if settings.routing_enabled else None,
        categorizer=to_categorize if settings.categorizer_enabled else None,
    )
    if settings.routing_enabled:
        floor_agents.register(
            app,
            settings,
            floor=floor,
            routed=raw_topic(app, topics.TICKETS_ROUTED),
            predictions=raw_topic(app, topics.TICKETS_CATEGORIZED),
            store=floor_store or PostgresFloorStore(settings.database.url),
        )
    if settings.categorizer_enabled:
        categorize.register(
            app,
            settings,
            tickets=to_categorize,
            predictions=raw_topic(app, topics.TICKETS_CATEGORIZED),
            labels=raw_topic(app, categorize.labels_topic_name(settings.app_id), partitions=1, internal=True),
            store=categorizer_store or PostgresCategorizerStore(settings.database.url),
        )
    return app
