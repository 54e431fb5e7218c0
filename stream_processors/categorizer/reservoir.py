"""A bounded, uniformly sampled memory of past labelled documents to rehearse while learning."""

from collections.abc import Sequence

import numpy as np

from stream_processors.categorizer.features import Counts


class Reservoir:
    """Reservoir sampling (Vitter's algorithm R): every example seen so far is kept with equal chance.

    >>> reservoir = Reservoir(capacity=2, seed=0)
    >>> for label in "abcdef":
    ...     reservoir.add([Counts(np.zeros(0, np.int32), np.zeros(0, np.float32))], [label])
    >>> len(reservoir), reservoir.seen
    (2, 6)
    """

    def __init__(self, capacity: int, seed: int = 0) -> None:
        self.capacity = capacity
        self.documents: list[Counts] = []
        self.labels: list[str] = []
        self.seen = 0
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.labels)

    def add(self, documents: Sequence[Counts], labels: Sequence[str]) -> None:
        for document, label in zip(documents, labels, strict=True):
            self.seen += 1
            if len(self.labels) < self.capacity:
                self.documents.append(document)
                self.labels.append(label)
            else:
                slot = int(self.rng.integers(0, self.seen))
                if slot < self.capacity:
                    self.documents[slot] = document
                    self.labels[slot] = label

    def sample(self, size: int) -> tuple[list[Counts], list[str]]:
        """Up to ``size`` stored examples, drawn with replacement."""
        if not self.labels or size <= 0:
            return [], []
        picks = self.rng.integers(0, len(self.labels), size)
        return [self.documents[i] for i in picks], [self.labels[i] for i in picks]
