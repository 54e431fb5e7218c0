"""Prequential (predict, then learn) evaluation on a labelled stream, then scoring on held-out data."""

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from stream_processors.categorizer.pipeline import Categorizer

Example = tuple[str, str]
"""A text and its category."""


@dataclass(frozen=True)
class EvaluationReport:
    train_examples: int
    test_examples: int
    categories: int
    prequential_accuracy: float
    heldout_accuracy: float
    macro_f1: float
    docs_per_second: float
    docs_per_cpu_second: float
    batch_size: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def macro_f1(truth: Sequence[str], predicted: Sequence[str | None]) -> float:
    """Unweighted mean F1 over the categories that occur in ``truth`` or ``predicted``.

    >>> macro_f1(["a", "a", "b"], ["a", "b", "b"])
    0.6666666666666666
    """
    true_positives: dict[str, int] = defaultdict(int)
    predicted_count: dict[str, int] = defaultdict(int)
    actual_count: dict[str, int] = defaultdict(int)
    for actual, guess in zip(truth, predicted, strict=True):
        actual_count[actual] += 1
        if guess is not None:
            predicted_count[guess] += 1
            if guess == actual:
                true_positives[actual] += 1
    labels = set(actual_count) | set(predicted_count)
    if not labels:
        return 0.0
    scores = []
    for label in labels:
        hits = true_positives[label]
        denominator = predicted_count[label] + actual_count[label]
        scores.append(2 * hits / denominator if denominator else 0.0)
    return sum(scores) / len(scores)


def stratified_split(
    examples: Sequence[Example], test_fraction: float = 0.2, seed: int = 7
) -> tuple[list[Example], list[Example]]:
    """A seeded split keeping each category's share, both halves shuffled (a realistic stream order).

    >>> train, test = stratified_split([(str(i), "ab"[i % 2]) for i in range(10)], 0.2, seed=1)
    >>> len(train), len(test), sorted(label for _, label in test)
    (8, 2, ['a', 'b'])
    """
    by_category: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_category[example[1]].append(example)
    rng = random.Random(seed)
    train: list[Example] = []
    test: list[Example] = []
    for category in sorted(by_category):
        group = by_category[category]
        rng.shuffle(group)
        held = min(len(group) - 1, max(1, round(len(group) * test_fraction))) if len(group) > 1 else 0
        test += group[:held]
        train += group[held:]
    rng.shuffle(train)
    rng.shuffle(test)
    return train, test


ARRIVALS = ("shuffled", "sorted", "new categories mid-stream")
"""How labelled examples may arrive: mixed; one category after another (a sorted export, a backlog
labelled queue by queue); or half the categories appearing only halfway (a product launch)."""


def arrival_order(examples: Sequence[Example], arrival: str, seed: int = 7) -> list[Example]:
    """``examples`` in one of the :data:`ARRIVALS` orders (seeded).

    >>> stream = [(str(i), "abcd"[i % 4]) for i in range(8)]
    >>> [label for _, label in arrival_order(stream, "sorted")]
    ['a', 'a', 'b', 'b', 'c', 'c', 'd', 'd']
    >>> late = arrival_order(stream, "new categories mid-stream")
    >>> {label for _, label in late[:2]} <= {"a", "c"}, sorted({label for _, label in late})
    (True, ['a', 'b', 'c', 'd'])
    """
    rng = random.Random(seed)
    if arrival == "shuffled":
        mixed = list(examples)
        rng.shuffle(mixed)
        return mixed
    if arrival == "sorted":
        return sorted(examples, key=lambda example: example[1])
    if arrival == "new categories mid-stream":
        late = set(sorted({label for _, label in examples})[1::2])
        early = [example for example in examples if example[1] not in late]
        rng.shuffle(early)
        half = len(early) // 2
        rest = early[half:] + [example for example in examples if example[1] in late]
        rng.shuffle(rest)
        return early[:half] + rest
    raise ValueError(f"unknown arrival {arrival!r}; choose one of {', '.join(ARRIVALS)}")


def evaluate(
    categorizer: Categorizer,
    train: Sequence[Example],
    test: Sequence[Example],
    *,
    batch_size: int = 32,
    language: str | None = None,
) -> EvaluationReport:
    """Stream ``train`` once in mini-batches (each predicted, then learned), then score ``test``;
    every text in ``language`` (default English)."""

    def languages(count: int) -> list[str] | None:
        return [language] * count if language else None

    correct = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for start in range(0, len(train), batch_size):
        batch = train[start : start + batch_size]
        texts = [text for text, _ in batch]
        labels = [label for _, label in batch]
        documents = categorizer.features(texts, languages(len(texts)))
        predictions = categorizer.predict(documents)
        correct += sum(p.best == label for p, label in zip(predictions, labels, strict=True))
        categorizer.learn(documents, labels)
    elapsed = time.perf_counter() - started
    cpu_elapsed = time.process_time() - cpu_started
    guesses: list[str | None] = []
    for start in range(0, len(test), 512):
        batch = test[start : start + 512]
        texts = [text for text, _ in batch]
        guesses += [p.best for p in categorizer.predict_texts(texts, languages=languages(len(texts)))]
    truth = [label for _, label in test]
    hits = sum(guess == label for guess, label in zip(guesses, truth, strict=True))
    return EvaluationReport(
        train_examples=len(train),
        test_examples=len(test),
        categories=len(categorizer.classes),
        prequential_accuracy=correct / len(train) if train else 0.0,
        heldout_accuracy=hits / len(test) if test else 0.0,
        macro_f1=macro_f1(truth, guesses),
        docs_per_second=len(train) / elapsed if elapsed > 0 else 0.0,
        docs_per_cpu_second=len(train) / cpu_elapsed if cpu_elapsed > 0 else 0.0,
        batch_size=batch_size,
    )
