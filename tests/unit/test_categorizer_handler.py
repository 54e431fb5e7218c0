"""The categorizer's Faust agents under test_context(): no broker, an in-memory store."""

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import faust

from cxa import events, topics
from stream_processors.app import create_app
from stream_processors.categorizer import Categorizer, MonitorReport, dump, load
from stream_processors.categorizer.agent import LABELS_KEY, prediction_id
from stream_processors.categorizer.labels import Labelled, decode, encode
from stream_processors.ingest.sink import Landed
from stream_processors.packing import pack
from stream_processors.settings import WorkerSettings

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class NullSink:
    async def write(self, batch: Sequence[Landed]) -> list[Landed]:
        return []


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


async def _until(condition: Any, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _settings() -> WorkerSettings:
    return WorkerSettings(
        categorizer_batch_size=10,
        categorizer_batch_seconds=0.02,
        categorizer_checkpoint_seconds=1e-6,
        categorizer_threshold=0.4,
        retry_max_seconds=0.05,
    )


def _run(
    store: MemoryStore, agent_name: str, messages: list[tuple[bytes, bytes]], done: Any
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def fake_send(self: faust.TopicT, **kwargs: Any) -> asyncio.Future[None]:
        sent.append({"topic": self.get_topic_name(), **kwargs})
        future = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    async def scenario() -> None:
        app = create_app(_settings(), sink=NullSink(), categorizer_store=store)
        app.finalize()
        agent = app.agents[agent_name]
        with patch.object(faust.Topic, "send", fake_send):
            async with agent.test_context() as running:
                for key, value in messages:
                    await running.put(value, key=key, wait=False)
                await _until(lambda: done(sent))

    asyncio.run(scenario())
    return sent


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
    # As ingest_events forwards them: validated events packed per batch (and a message that is not).
    packed = pack([events.serialize(e) for e in (card, vague, confirmed, corrected_unknown)])
    messages = [(b"", packed), (b"", b"{not json")]
    sent = _run(store, "categorize_tickets", messages, lambda sent: len(sent) >= 3)

    predictions = [s for s in sent if s["topic"] == topics.TICKETS_CATEGORIZED]
    assert [s["key"] for s in predictions] == [b"T1", b"T2"]
    first = events.PREDICTED_ADAPTER.validate_json(predictions[0]["value"])
    assert first.category == "card"
    assert first.event_id == prediction_id(card.event_id)
    assert first.model_version == "1.0"
    assert [name for name, _ in first.top] == ["card", "transfer"]
    assert first.latency_ms >= 0
    second = events.PREDICTED_ADAPTER.validate_json(predictions[1]["value"])
    assert second.confidence < 0.9
    assert store.predictions == [first, second]

    labels = [s for s in sent if s["topic"] == topics.categorizer_labels_topic("cxa-worker")]
    assert len(labels) == 1  # one message for the batch's examples
    [example] = decode(labels[0]["value"])  # T9 was never seen: nothing to learn from
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
    messages = [(LABELS_KEY, encode(examples[:1])), (LABELS_KEY, encode(examples[1:])), (LABELS_KEY, b"junk")]
    _run(store, "learn_categories", messages, lambda sent: len(store.checkpoints) >= 2 and store.quality)

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
    sent = _run(
        store, "categorize_tickets", [(b"", pack([events.serialize(created)]))], lambda sent: len(sent) >= 1
    )
    assert "checksum mismatch" in store.rejected[2]
    prediction = events.PREDICTED_ADAPTER.validate_json(sent[0]["value"])
    assert prediction.model_version == "1.0"
    assert prediction.category == "card"
