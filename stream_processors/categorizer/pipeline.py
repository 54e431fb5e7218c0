"""The categorizer: spaCy-prepared text, hashed TF-IDF features and the online model, end to end."""

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from stream_processors.categorizer.classifier import FloatMatrix, PassiveAggressiveClassifier, softmax
from stream_processors.categorizer.features import Counts, DocumentFrequencies, FeatureHasher
from stream_processors.categorizer.replay import ClassStatistics
from stream_processors.categorizer.reservoir import Reservoir
from stream_processors.categorizer.text import TextPreparer

RECENT_LABELS = 64
"""How many of the latest labels tell whether categories arrive in blocks (whatever the batches)."""
IN_BLOCKS = 3
"""How many times as much a batch rehearses while categories arrive in blocks: the few categories
arriving push every other one down unless those are rehearsed more."""
LATEST_DOCUMENTS = 256
"""How many of the latest labelled documents a third of the stored examples come from while
categories arrive in blocks: a reservoir much smaller than the stream holds few of the block's own,
which would otherwise be learnt from one look."""


def in_blocks(recent: Sequence[str], categories: int) -> bool:
    """Whether the latest labels (at least half of :data:`RECENT_LABELS`) cover few of the
    ``categories`` known: one, or at most an eighth of them and a quarter of the categories. The
    latest labels of a shuffled stream cover many categories of a large taxonomy, and nearly all
    of a small one.

    >>> in_blocks(["card_arrival"] * 50 + ["card_linking"] * 14, categories=77)
    True
    >>> in_blocks([f"category_{i % 25}" for i in range(64)], categories=77)
    False
    >>> in_blocks(["refund", "refund", "billing", "refund"] * 16, categories=3)
    False
    >>> in_blocks(["refund"] * 3, categories=77)  # too few to tell
    False
    """
    if len(recent) < RECENT_LABELS // 2:
        return False
    return len(set(recent)) <= max(1, min(len(recent) // 8, categories // 4))


@dataclass(frozen=True)
class CategorizerConfig:
    """Everything that shapes the model; stored in its checkpoints."""

    bits: int = 17
    char_ngrams: tuple[int, int] = (3, 4)
    C: float = 1.0
    temperature: float = 4.0
    rehearsal: int = 3
    generated: int = 2
    naive_bayes_weight: float = 0.03  # the naive-Bayes scores' exponent in predictions
    smoothing: float = 0.02  # additive smoothing of the naive-Bayes feature probabilities
    reservoir_size: int = 10_000
    seed: int = 0


@dataclass(frozen=True)
class Prediction:
    """The categorizer's answer for one text; ``category`` is None when it abstains."""

    category: str | None
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)

    @property
    def best(self) -> str | None:
        """The most likely category, even when abstaining."""
        return self.top[0][0] if self.top else None


class Categorizer:
    """Predict categories for texts and learn from labelled ones, one mini-batch at a time.

    Learning a batch also rehearses ``rehearsal`` times as many examples drawn from a bounded
    reservoir of past ones, so a single pass over the stream gets close to batch training, and
    ``generated`` times as many pseudo-documents drawn from per-category feature statistics, which
    remember every category however the stream is ordered and however small the reservoir.
    While categories arrive in blocks (:func:`in_blocks`) it rehearses :data:`IN_BLOCKS` times as
    many of both, a third of the stored examples drawn from the :data:`LATEST_DOCUMENTS` latest.

    >>> categorizer = Categorizer()
    >>> categorizer.learn_texts(["my card has not arrived", "how do I transfer money"], ["card", "transfer"])
    >>> [p.category for p in categorizer.predict_texts(["where is my card", "a transfer to my friend"])]
    ['card', 'transfer']
    """

    def __init__(self, config: CategorizerConfig | None = None, preparer: TextPreparer | None = None) -> None:
        self.config = config or CategorizerConfig()
        self.hasher = FeatureHasher(
            preparer or TextPreparer(), bits=self.config.bits, char_ngrams=self.config.char_ngrams
        )
        self.frequencies = DocumentFrequencies(self.hasher.n_features)
        self.model = PassiveAggressiveClassifier(
            n_features=self.hasher.n_features, C=self.config.C, temperature=self.config.temperature
        )
        self.reservoir = Reservoir(self.config.reservoir_size, seed=self.config.seed)
        self.statistics = ClassStatistics(
            self.hasher.n_features, smoothing=self.config.smoothing, seed=self.config.seed + 1
        )
        self.examples_learned = 0
        self.recent: deque[str] = deque(maxlen=RECENT_LABELS)
        self.latest: deque[tuple[Counts, str]] = deque(maxlen=LATEST_DOCUMENTS)
        self.rng = np.random.default_rng(self.config.seed + 2)

    @property
    def classes(self) -> list[str]:
        return self.model.classes

    def features(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> list[Counts]:
        """Each text's features, tokenised and lemmatised in its language (default English)."""
        return self.hasher.count(texts, languages)

    def predict(
        self, documents: Sequence[Counts], *, threshold: float = 0.0, top: int = 3
    ) -> list[Prediction]:
        """Predictions for featurised documents; below ``threshold`` confidence they abstain."""
        if not documents:
            return []
        if not self.classes:
            return [Prediction(None, 0.0, []) for _ in documents]
        probabilities = self.probabilities(self.frequencies.weigh(documents))
        k = min(top, probabilities.shape[1])
        # The k best of each row (unordered), then those k in order: no sort of every category.
        candidates = np.argpartition(-probabilities, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(probabilities, candidates, axis=1), axis=1, kind="stable")
        ranked = np.take_along_axis(candidates, order, axis=1)
        names = self.classes
        predictions = []
        for row, indices in zip(probabilities, ranked, strict=True):
            best = [(names[i], float(row[i])) for i in indices]
            confidence = best[0][1]
            predictions.append(Prediction(best[0][0] if confidence >= threshold else None, confidence, best))
        return predictions

    def probabilities(self, rows: sp.csr_matrix) -> FloatMatrix:
        """Per row, each category's probability (columns in the order of ``classes``): the linear
        model's softmax times the per-category statistics' naive-Bayes likelihood to the power
        ``naive_bayes_weight``, normalised. The statistics do not depend on the order the labels
        came in, so they hold up the categories the linear model lets slip when categories arrive
        in blocks."""
        scores = self.model.decision_many(rows) * self.model.temperature
        if self.config.naive_bayes_weight:
            generative = self.statistics.log_likelihoods(rows, self.classes)
            if generative is not None:
                scores += self.config.naive_bayes_weight * generative
        return softmax(scores)

    def learn(self, documents: Sequence[Counts], labels: Sequence[str]) -> None:
        """Learn a mini-batch of labelled documents (with rehearsal from the reservoir and the
        per-category statistics)."""
        if not documents:
            return
        self.frequencies.observe(documents)
        self.statistics.observe(documents, labels)
        self.recent.extend(labels)
        times = IN_BLOCKS if in_blocks(self.recent, len(self.statistics.labels)) else 1
        stored = self.config.rehearsal * len(documents) * times
        latest = stored // times if times > 1 else 0
        past, past_labels = self.reservoir.sample(stored - latest)
        newest, newest_labels = self._latest(latest)
        pseudo, pseudo_labels = self.statistics.sample_uniform(self.config.generated * len(documents) * times)
        batch = [*documents, *past, *newest, *pseudo]
        self.model.learn_many(
            self.frequencies.weigh(batch), [*labels, *past_labels, *newest_labels, *pseudo_labels]
        )
        self.reservoir.add(documents, labels)
        self.latest.extend(zip(documents, labels, strict=True))
        self.examples_learned += len(documents)

    def _latest(self, size: int) -> tuple[list[Counts], list[str]]:
        """``size`` of the latest documents learnt, drawn with replacement."""
        if not self.latest or size <= 0:
            return [], []
        latest = list(self.latest)  # a deque is slow to index in its middle
        drawn = [latest[i] for i in self.rng.integers(0, len(latest), size).tolist()]
        return [document for document, _ in drawn], [label for _, label in drawn]

    def predict_texts(
        self, texts: Sequence[str], *, threshold: float = 0.0, languages: Sequence[str] | None = None
    ) -> list[Prediction]:
        return self.predict(self.features(texts, languages), threshold=threshold)

    def learn_texts(
        self, texts: Sequence[str], labels: Sequence[str], languages: Sequence[str] | None = None
    ) -> None:
        self.learn(self.features(texts, languages), labels)


def timed_predict(
    categorizer: Categorizer,
    texts: Sequence[str],
    *,
    threshold: float,
    languages: Sequence[str] | None = None,
) -> tuple[list[Counts], list[Prediction], float]:
    """Features and predictions for ``texts`` (in ``languages``) and the seconds it took per text."""
    started = time.perf_counter()
    documents = categorizer.features(texts, languages)
    predictions = categorizer.predict(documents, threshold=threshold)
    elapsed = time.perf_counter() - started
    return documents, predictions, elapsed / max(len(texts), 1)
