"""The categorizer's handler: the model lifecycle of one worker and what its two agents do.

``categorize_messages`` predicts the tickets the ingest handler forwards (packed per source
partition) and keeps each ticket's features until its confirmed or corrected category arrives; then
it passes features, label and its prediction to the one learner. ``learn_messages`` is the learner:
it learns every label once, monitors quality and checkpoints to the store; every other worker loads
the newest checkpoint on its ``tick``. One model lineage, and a restart resumes from the last
checkpoint.
"""

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import TypeAdapter

from cxa import events
from stream_processors.categorizer import (
    Categorizer,
    CorruptCheckpoint,
    NewerCheckpoint,
    PendingTickets,
    QualityMonitor,
    TextPreparer,
    Waiting,
    load,
    read_header,
)
from stream_processors.categorizer.checkpoint import encode, snapshot
from stream_processors.categorizer.labels import Labelled
from stream_processors.categorizer.labels import decode as decode_labels
from stream_processors.categorizer.pipeline import timed_predict
from stream_processors.categorizer.store import CategorizerStore
from stream_processors.packing import unpack
from stream_processors.retrying import isolating, retrying
from stream_processors.settings import WorkerSettings

log = logging.getLogger(__name__)

_TICKET_EVENTS: TypeAdapter[list[events.TicketEvent]] = TypeAdapter(list[events.TicketEvent])
_PREDICTION_NAMESPACE = uuid.UUID("5d7f6f1e-4a8c-4d55-9a43-2f0c1c6c1f3e")

PublishPredictions = Callable[[Sequence[events.CategoryPredicted]], Awaitable[None]]
"""Sends predictions on (their topic, the floor), returning once Kafka has every one of them."""

PublishLabels = Callable[[Sequence[Labelled]], Awaitable[None]]
"""Sends learning examples to the learner, returning once Kafka has every one of them."""


def prediction_id(created_event_id: uuid.UUID) -> uuid.UUID:
    """The same ticket-created event always yields the same prediction id (idempotent sinks)."""
    return uuid.uuid5(_PREDICTION_NAMESPACE, str(created_event_id))


def wants(event: events.EventBase) -> bool:
    """Whether the categorizer needs this validated event: tickets to predict and their labels."""
    return isinstance(
        event, events.TicketCreated | events.TicketCategoryConfirmed | events.TicketCategoryCorrected
    )


@dataclass
class ModelState:
    """The worker's current categorizer and where it stands against the checkpoints."""

    categorizer: Categorizer
    checkpoint_id: int = 0
    learned_since_checkpoint: int = 0
    checkpointed_at: float = field(default_factory=time.monotonic)
    loaded: bool = False

    @property
    def version(self) -> str:
        return f"{self.checkpoint_id}.{self.learned_since_checkpoint}"


class CategorizerHandler:
    """What the categorizer's agents do: load, predict, learn, checkpoint, reload. Plain async code
    (all I/O through ``store`` and the two publish functions), called directly by tests."""

    def __init__(
        self,
        settings: WorkerSettings,
        store: CategorizerStore,
        *,
        publish_predictions: PublishPredictions,
        publish_labels: PublishLabels,
    ) -> None:
        self.settings = settings
        self.store = store
        self.publish_predictions = publish_predictions
        self.publish_labels = publish_labels
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self._preparer: TextPreparer | None = None
        self._state: ModelState | None = None
        self.pending = PendingTickets(
            settings.categorizer_pending_capacity, settings.categorizer_pending_ttl_seconds
        )
        self.monitor = QualityMonitor(window=settings.categorizer_monitor_window)
        self.monitored_at = time.monotonic()
        self.lock = asyncio.Lock()  # the model: predicting, learning, copying, replacing
        self.saving = asyncio.Lock()  # one checkpoint at a time
        self.unmatched_labels = 0
        self.newer_skipped: set[int] = set()  # checkpoints of a newer format, read once
        self.reported_labelled = 0

    @property
    def state(self) -> ModelState:
        if self._state is None:
            self._preparer = TextPreparer()
            self._state = ModelState(Categorizer(preparer=self._preparer))
        return self._state

    async def refresh(self) -> None:
        """Load the newest good checkpoint unless this worker has unsaved learning of its own."""
        state = self.state
        if state.learned_since_checkpoint:
            return
        for checkpoint_id in await self.store.checkpoint_ids(newer_than=state.checkpoint_id):
            if checkpoint_id in self.newer_skipped:
                continue
            blob = await self.store.read_checkpoint(checkpoint_id)
            try:
                categorizer = await asyncio.to_thread(load, blob, self._preparer)
            except NewerCheckpoint as exc:  # a newer worker's: not ours to reject
                log.warning("categorizer checkpoint %d skipped: %s", checkpoint_id, exc)
                self.newer_skipped.add(checkpoint_id)
                continue
            except CorruptCheckpoint as exc:
                log.error("categorizer checkpoint %d is corrupt and was refused: %s", checkpoint_id, exc)
                await self.store.reject_checkpoint(checkpoint_id, str(exc))
                continue
            self._state = ModelState(categorizer, checkpoint_id=checkpoint_id, loaded=True)
            log.info(
                "loaded categorizer checkpoint %d (%d examples learned, %d categories)",
                checkpoint_id,
                categorizer.examples_learned,
                len(categorizer.classes),
            )
            return
        state.loaded = True

    async def ensure_loaded(self) -> None:
        if not self.state.loaded:
            async with self.lock:
                if not self.state.loaded:
                    await self.refresh()

    async def checkpoint(self) -> None:
        """Save the model: copied under the lock, compressed and written while predictions go on."""
        async with self.saving:
            async with self.lock:
                state = self.state
                learned = state.learned_since_checkpoint
                if not learned:
                    return
                version = state.version
                examples, categories = state.categorizer.examples_learned, len(state.categorizer.classes)
                copied = await asyncio.to_thread(snapshot, state.categorizer)
            blob = await asyncio.to_thread(encode, copied)
            checkpoint_id = await self.store.save_checkpoint(
                blob,
                worker=self.worker,
                model_version=version,
                examples_learned=examples,
                categories=categories,
                sha256=str(read_header(blob)["sha256"]),
                keep=self.settings.categorizer_keep_checkpoints,
            )
            async with self.lock:
                if self.state is state:
                    state.checkpoint_id = checkpoint_id
                    state.learned_since_checkpoint -= learned  # what it learnt while saving stays counted
                    state.checkpointed_at = time.monotonic()
        log.info("categorizer checkpoint %d saved (%d bytes, model %s)", checkpoint_id, len(blob), version)

    async def report_quality(self) -> None:
        async with self.lock:
            report = self.monitor.report()
            version = self.state.version
        self.reported_labelled = report.labelled
        await self.store.write_quality(self.worker, version, report)
        self.monitored_at = time.monotonic()
        for alarm in report.alarms:
            log.warning(
                "categorizer drift: error rate now %.3f (ADWIN window %d)", alarm.error_rate, alarm.window
            )

    async def flush(self, *, force: bool) -> None:
        """Checkpoint and report quality when due (or now, with ``force``)."""
        settings = self.settings
        now = time.monotonic()
        state = self.state
        if (
            state.learned_since_checkpoint
            and not self.saving.locked()  # one under way already
            and (force or now - state.checkpointed_at >= settings.categorizer_checkpoint_seconds)
        ):
            await retrying(
                self.checkpoint, what="checkpointing the categorizer", max_delay=settings.retry_max_seconds
            )
        if self.monitor.labelled > self.reported_labelled and (
            force or now - self.monitored_at >= settings.categorizer_checkpoint_seconds / 3
        ):
            await retrying(
                self.report_quality, what="writing categorizer quality", max_delay=settings.retry_max_seconds
            )

    # -- the work of the agents ----------------------------------------------------------------

    def predict(self, created: Sequence[events.TicketCreated]) -> list[events.CategoryPredicted]:
        state = self.state
        threshold = self.settings.categorizer_threshold
        texts = [f"{ticket.subject}\n{ticket.body}" for ticket in created]
        languages = [ticket.language for ticket in created]
        documents, predictions, seconds_each = timed_predict(
            state.categorizer, texts, threshold=threshold, languages=languages
        )
        now = datetime.now(UTC)
        clock = time.monotonic()
        out = []
        for ticket, document, prediction in zip(created, documents, predictions, strict=True):
            self.pending.put(
                ticket.ticket_id,
                Waiting(document, prediction.best, prediction.category is None, clock),
                now=clock,
            )
            out.append(
                events.CategoryPredicted(
                    event_id=prediction_id(ticket.event_id),
                    occurred_at=now,
                    ticket_id=ticket.ticket_id,
                    ticket_created_at=ticket.occurred_at,
                    category=prediction.category,
                    confidence=min(max(prediction.confidence, 0.0), 1.0),
                    top=[(name, min(max(p, 0.0), 1.0)) for name, p in prediction.top],
                    model_version=state.version,
                    latency_ms=seconds_each * 1000.0,
                )
            )
        return out

    def labelled(self, ticket_id: str, category: str) -> Labelled | None:
        """The learner's example for a confirmed ticket, or None if its features are gone. The
        features stay pending until :meth:`sent` (a send retried needs them again)."""
        waiting = self.pending.get(ticket_id, now=time.monotonic())
        if waiting is None:
            self.unmatched_labels += 1
            return None
        return Labelled(ticket_id, category, waiting.predicted, waiting.abstained, waiting.features)

    def sent(self, examples: Sequence[Labelled]) -> None:
        """These examples are with the learner: their tickets' features are no longer needed here."""
        now = time.monotonic()
        for example in examples:
            self.pending.pop(example.ticket_id, now=now)

    def learn(self, batch: Sequence[Labelled]) -> None:
        state = self.state
        state.categorizer.learn([item.features for item in batch], [item.category for item in batch])
        state.learned_since_checkpoint += len(batch)
        for item in batch:
            self.monitor.observe(item.predicted, item.abstained, item.category)

    async def categorize_messages(self, values: Sequence[bytes | None]) -> None:
        """One batch of the categorizer's topic: predict its new tickets, pass its labels on."""
        size = self.settings.categorizer_batch_size
        parsed = [
            event
            for value in values
            if value is not None
            for event in unpack(value, _TICKET_EVENTS, events.TICKET_EVENT_ADAPTER)
        ]
        for start in range(0, len(parsed), size):
            # A ticket the model or a store cannot take is set aside (logged) rather than retried
            # forever; transient failures are retried.
            await isolating(
                parsed[start : start + size],
                self.categorize,
                what="categorizing tickets",
                max_delay=self.settings.retry_max_seconds,
                refuse=_set_aside,
            )

    async def categorize(self, parsed: Sequence[events.TicketEvent]) -> None:
        await self.ensure_loaded()
        created = [e for e in parsed if isinstance(e, events.TicketCreated)]
        if created:
            # In a thread (the model under the lock), so the sink's batches are not held up meanwhile.
            async with self.lock:
                out = await asyncio.to_thread(self.predict, created)
            await self.store.write_predictions(out)
            await self.publish_predictions(out)
        learnable = [
            self.labelled(event.ticket_id, event.category)
            for event in parsed
            if isinstance(event, events.TicketCategoryConfirmed | events.TicketCategoryCorrected)
        ]
        if examples := [example for example in learnable if example is not None]:
            await self.publish_labels(examples)
            self.sent(examples)

    async def learn_messages(self, values: Sequence[bytes | None]) -> None:
        """One batch of the labels topic (the learner): learn every example, checkpoint when due."""
        size = self.settings.categorizer_batch_size
        examples = []
        for value in values:
            try:
                examples.extend(decode_labels(value or b""))
            except Exception as exc:  # not from a worker of this version: nothing to learn
                log.error("skipped a message on the labels topic: %s", exc)
        # Mini-batches, the lock released in between, so predictions wait at most one of them.
        for start in range(0, len(examples), size):
            async with self.lock:
                await self.refresh()
                await asyncio.to_thread(self.learn, examples[start : start + size])
        await self.flush(force=False)

    async def tick(self) -> None:
        """The timer's work: checkpoint and report when due, load a newer checkpoint. Never raises
        (a timer that raises crashes the whole worker): a database away only costs this tick."""
        try:
            await self.flush(force=False)
            async with self.lock:
                await self.refresh()
        except Exception as exc:
            log.warning(
                "refreshing the categorizer failed (%s: %s); trying again next time", type(exc).__name__, exc
            )


async def _set_aside(event: events.TicketEvent, exc: Exception) -> None:
    log.error("could not categorize %s %s: %s", event.event_type, event.ticket_id, exc)
