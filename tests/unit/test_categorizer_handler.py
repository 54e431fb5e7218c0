"""The categorizer's handler, called as its agents call it: an in-memory store, recorded sends."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cxa import events
from stream_processors.categorizer import Categorizer, MonitorReport, checkpoint, dump, load
from stream_processors.categorizer.handler import CategorizerHandler, prediction_id
from stream_processors.categorizer.labels import Labelled, encode
from stream_processors.packing import pack
from stream_processors.settings import WorkerSettings

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class MemoryStore:
    def __init__(self) -> None:
        self.checkpoints: dict[int, bytes] = {}
        self.rejected: dict[int, str] = {}
        self.predictions: list[events.CategoryPredicted] = []
        self.quality: list[MonitorReport] = []

    async def checkpoint_ids(self, newer_than: int) -> list[int]:
        return sorted(
            (i for i in self.checkpoints if i > newer_than and i not in self.rejected), reverse=True
        )

    async def read_checkpoint(self, checkpoint_id: int) -> bytes:
        return self.checkpoints[checkpoint_id]

    async def save_checkpoint(self, state: bytes, **meta: Any) -> int:
        checkpoint_id = max(self.checkpoints, default=0) + 1
        self.checkpoints[checkpoint_id] = state
        return checkpoint_id

    async def reject_checkpoint(self, checkpoint_id: int, reason: str) -> None:
        self.rejected[checkpoint_id] = reason

    async def write_predictions(self, predictions: Sequence[events.CategoryPredicted]) -> None:
        self.predictions.extend(predictions)

    async def write_quality(self, worker: str, model_version: str, report: MonitorReport) -> None:
        self.quality.append(report)


def _trained_checkpoint() -> bytes:
    categorizer = Categorizer()
    texts = [
        "my card has not arrived",
        "card still not delivered",
        "how do I transfer money",
        "send a transfer",
    ]
    categorizer.learn_texts(texts * 3, ["card", "card", "transfer", "transfer"] * 3)
    return dump(categorizer)


def _created(ticket_id: str, body: str) -> events.TicketCreated:
    return events.TicketCreated(
        ticket_id=ticket_id,
        occurred_at=WHEN,
        customer_id="C1",
        channel="email",
        priority="normal",
        subject="Help",
        body=body,
    )


def _settings() -> WorkerSettings:
    return WorkerSettings(
        categorizer_batch_size=10,
        categorizer_batch_seconds=0.02,
        categorizer_checkpoint_seconds=1e-6,
        categorizer_threshold=0.4,
        retry_max_seconds=0.05,
    )


@dataclass
class Published:
    predictions: list[events.CategoryPredicted] = field(default_factory=list)
    labels: list[list[Labelled]] = field(default_factory=list)

    async def publish_predictions(self, out: Sequence[events.CategoryPredicted]) -> None:
        self.predictions.extend(out)

    async def publish_labels(self, examples: Sequence[Labelled]) -> None:
        self.labels.append(list(examples))


def _handler(store: MemoryStore, published: Published) -> CategorizerHandler:
    return CategorizerHandler(
        _settings(),
        store,
        publish_predictions=published.publish_predictions,
        publish_labels=published.publish_labels,
    )


def test_created_tickets_are_categorized_and_labels_forwarded_to_the_learner() -> None:
    store = MemoryStore()
    store.checkpoints[1] = _trained_checkpoint()
    card, vague = _created("T1", "my card has not arrived yet"), _created("T2", "hello")
    confirmed = events.TicketCategoryConfirmed(
        ticket_id="T1", occurred_at=WHEN, agent_id="A1", category="card"
    )
    corrected_unknown = events.TicketCategoryCorrected(
        ticket_id="T9", occurred_at=WHEN, agent_id="A1", category="card"
    )
    # As the ingest handler forwards them: validated events packed per batch (and a message that is not).
    packed = pack([events.serialize(e) for e in (card, vague, confirmed, corrected_unknown)])
    published = Published()
    asyncio.run(_handler(store, published).categorize_messages([packed, b"{not json"]))

    assert [p.ticket_id for p in published.predictions] == ["T1", "T2"]
    first, second = published.predictions
    assert first.category == "card"
    assert first.event_id == prediction_id(card.event_id)
    assert first.model_version == "1.0"
    assert [name for name, _ in first.top] == ["card", "transfer"]
    assert first.latency_ms >= 0
    assert second.confidence < 0.9
    assert store.predictions == [first, second]

    [examples] = published.labels  # one send for the batch's examples
    [example] = examples  # T9 was never seen: nothing to learn from
    assert (example.ticket_id, example.category, example.predicted) == ("T1", "card", "card")
    assert example.features.indices.size
    assert (
        example.features.indices.tolist()
        == Categorizer().features([f"Help\n{card.body}"])[0].indices.tolist()
    )


def test_the_learner_learns_checkpoints_and_reports_quality() -> None:
    store = MemoryStore()
    store.checkpoints[1] = _trained_checkpoint()
    features = Categorizer().features(["my card was stolen", "I want a refund"])
    examples = [
        Labelled("T1", category, predicted, False, document)
        for document, (category, predicted) in zip(
            features, [("card", "card"), ("refund", "transfer")], strict=True
        )
    ]
    messages = [encode(examples[:1]), encode(examples[1:]), b"junk"]
    asyncio.run(_handler(store, Published()).learn_messages(messages))

    newest = load(store.checkpoints[max(store.checkpoints)])
    assert "refund" in newest.classes
    assert newest.examples_learned == 12 + 2
    report = store.quality[0]
    assert report.labelled == 2
    assert report.rolling_accuracy == 0.5
    assert report.categories["transfer"].false_positives == 1


def test_a_corrupt_newest_checkpoint_is_refused_and_the_previous_one_used() -> None:
    store = MemoryStore()
    store.checkpoints[1] = _trained_checkpoint()
    good = store.checkpoints[1]
    store.checkpoints[2] = good[:-50] + bytes(50)
    created = _created("T1", "my card has not arrived yet")
    published = Published()
    asyncio.run(_handler(store, published).categorize_messages([pack([events.serialize(created)])]))
    assert "checksum mismatch" in store.rejected[2]
    [prediction] = published.predictions
    assert prediction.model_version == "1.0"
    assert prediction.category == "card"


def test_a_checkpoint_of_a_newer_format_is_left_alone_and_the_previous_one_used() -> None:
    """A rolling upgrade or a rollback: an older worker must not reject a newer worker's state."""
    store = MemoryStore()
    store.checkpoints[1] = _trained_checkpoint()
    state = checkpoint.snapshot(checkpoint.load(store.checkpoints[1]))
    store.checkpoints[2] = checkpoint.encode(
        checkpoint.Snapshot({**state.header, "format": checkpoint.FORMAT_VERSION + 1}, state.arrays)
    )
    handler = _handler(store, Published())
    created = _created("T1", "my card has not arrived yet")
    asyncio.run(handler.categorize_messages([pack([events.serialize(created)])]))
    assert store.rejected == {}
    assert handler.state.checkpoint_id == 1
    assert handler.newer_skipped == {2}


def test_a_label_whose_send_fails_for_a_while_still_reaches_the_learner() -> None:
    store = MemoryStore()
    store.checkpoints[1] = _trained_checkpoint()
    created = _created("T1", "my card has not arrived yet")
    confirmed = events.TicketCategoryConfirmed(
        ticket_id="T1", occurred_at=WHEN, agent_id="A1", category="card"
    )
    published = Published()
    failures = iter([ConnectionError("broker away")])

    async def flaky_labels(examples: Sequence[Labelled]) -> None:
        if exc := next(failures, None):
            raise exc
        await published.publish_labels(examples)

    handler = CategorizerHandler(
        _settings(), store, publish_predictions=published.publish_predictions, publish_labels=flaky_labels
    )
    asyncio.run(handler.categorize_messages([pack([events.serialize(created)])]))
    asyncio.run(handler.categorize_messages([pack([events.serialize(confirmed)])]))

    assert [[example.ticket_id for example in batch] for batch in published.labels] == [["T1"]]
    assert len(handler.pending) == 0  # sent, so no longer kept
