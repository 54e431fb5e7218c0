"""Faust agents of the categorizer: ``categorize_tickets`` predicts, ``learn_categories`` learns.

Input: the ingest handler forwards every validated ticket-created and category-confirmed/corrected
event, once it is in PostgreSQL, to the app's internal topic ``<app id>-categorizer-tickets``. The
categorizer thus reads a topic of its own: when it falls behind (a burst of tickets, a long
learning step), Faust pauses only that topic, and events keep landing in PostgreSQL at full speed.

Scale-out: ``categorize_tickets`` runs on every worker over its partitions of that topic. A
ticket's created and confirmed/corrected events share a partition (key = ticket id), so the worker
that predicted keeps the ticket's features. Labels go to the app's internal one-partition labels
topic, whose owner runs ``learn_categories``: the one learner. The work is
:class:`~stream_processors.categorizer.handler.CategorizerHandler`'s.
"""

import faust
from faust.types import StreamT

from stream_processors.categorizer.handler import CategorizerHandler
from stream_processors.settings import WorkerSettings
from stream_processors.transport import acknowledged_batches


def register(
    app: faust.App,
    settings: WorkerSettings,
    *,
    tickets: faust.TopicT,
    labels: faust.TopicT,
    handler: CategorizerHandler,
) -> None:
    size, within = settings.categorizer_batch_size, settings.categorizer_batch_seconds

    @app.agent(tickets, name="categorize_tickets")
    async def categorize_tickets(stream: StreamT[bytes]) -> None:
        async for batch in acknowledged_batches(stream, size, within=within):
            await handler.categorize_messages([event.value for event in batch])

    @app.agent(labels, name="learn_categories")
    async def learn_categories(stream: StreamT[bytes]) -> None:
        async for batch in acknowledged_batches(stream, size, within=within):
            await handler.learn_messages([event.value for event in batch])

    @app.timer(settings.categorizer_reload_seconds, name="refresh_categorizer")
    async def refresh_categorizer() -> None:
        await handler.tick()
