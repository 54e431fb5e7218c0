"""A multiclass passive-aggressive linear model over hashed sparse features, as a River classifier.

One weight column per category over ``n_features`` hashed features. Each labelled example moves the
weights just enough (capped by ``C``, PA-I) for its true category to beat every other category by a
margin of 1, spreading the correction over all the categories that violate the margin. Updates are
sparse (only the rows of features present) and vectorised over mini-batches, so the cost per
document grows with its number of features times the number of categories, nothing more. New
categories get a fresh column whenever they first appear.

A mini-batch's corrections are computed from the same weights and add up, so examples of one
category that share features would overshoot together: 32 paraphrases of a new category would
each push it the whole way. Each example's step is divided by how much it overlaps the batch's
other updating examples of its category (``x_i . sum_j x_j / |x_i|^2``, 1 for an example alone).
That keeps a stream whose categories arrive in blocks (a new product, a sorted export) close to
a shuffled one, and changes little when a batch mixes categories.
"""

from collections.abc import Hashable, Sequence
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from river import base

FloatMatrix = npt.NDArray[np.float32]


def softmax(scores: FloatMatrix) -> FloatMatrix:
    """Row-wise softmax, in place."""
    scores -= scores.max(axis=1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(axis=1, keepdims=True)
    return scores


class PassiveAggressiveClassifier(base.Classifier):
    """Multiclass PA-I over sparse rows; ``predict_proba`` is a softmax of the scores.

    ``learn_one``/``predict_proba_one`` take River's dict features ``{feature index: value}``;
    ``learn_many``/``predict_proba_many`` take a CSR matrix, which is the fast path.

    >>> model = PassiveAggressiveClassifier(n_features=8)
    >>> model.learn_one({0: 1.0}, "card")
    >>> model.learn_one({1: 1.0}, "transfer")
    >>> model.predict_one({0: 1.0}), model.predict_one({1: 0.9, 2: 0.1})
    ('card', 'transfer')
    >>> model.classes
    ['card', 'transfer']
    """

    def __init__(self, n_features: int = 1 << 17, C: float = 1.0, temperature: float = 4.0) -> None:
        self.n_features = n_features
        self.C = C
        self.temperature = temperature
        self.classes: list[str] = []
        self._index: dict[str, int] = {}
        # Room for 128 categories (64 MiB at 2**17 features) before growing, which copies it all.
        self._weights: FloatMatrix = np.zeros((n_features, 128), dtype=np.float32)
        self._scratch = np.zeros(n_features, dtype=bool)  # which features a batch uses
        self._positions = np.zeros(n_features, dtype=np.int32)  # their column in the batch

    @property
    def _multiclass(self) -> bool:
        return True

    # -- state ---------------------------------------------------------------------------------

    @property
    def weights(self) -> FloatMatrix:
        """The ``n_features x len(classes)`` weights (a view)."""
        return self._weights[:, : len(self.classes)]

    def restore(self, classes: Sequence[str], rows: npt.NDArray[np.int64], values: FloatMatrix) -> None:
        """Set the state: ``classes`` and the non-zero weight ``rows`` with their ``values``."""
        self.classes = list(classes)
        self._index = {name: i for i, name in enumerate(self.classes)}
        self._weights = np.zeros((self.n_features, max(128, len(self.classes))), dtype=np.float32)
        self._weights[rows, : len(self.classes)] = values

    def _class_indices(self, labels: Sequence[str]) -> npt.NDArray[np.int64]:
        for label in labels:
            if label not in self._index:
                self._add_class(label)
        return np.fromiter((self._index[label] for label in labels), dtype=np.int64, count=len(labels))

    def _add_class(self, label: str) -> None:
        if len(self.classes) == self._weights.shape[1]:
            grown = np.zeros((self.n_features, len(self.classes) * 2), dtype=np.float32)
            grown[:, : len(self.classes)] = self._weights
            self._weights = grown
        self._index[label] = len(self.classes)
        self.classes.append(label)

    # -- batches -------------------------------------------------------------------------------

    def _compact(self, rows: sp.csr_matrix) -> tuple[npt.NDArray[np.int64], sp.csr_matrix]:
        """The features present and the rows re-indexed onto them (columns 0..len(features))."""
        present = self._scratch
        present[rows.indices] = True
        features = np.flatnonzero(present)
        present[features] = False
        position = self._positions
        position[features] = np.arange(len(features), dtype=np.int32)
        compact = sp.csr_matrix(
            (rows.data, position[rows.indices], rows.indptr), shape=(rows.shape[0], len(features))
        )
        return features, compact

    def decision_many(self, rows: sp.csr_matrix) -> FloatMatrix:
        """Scores, ``len(rows) x len(classes)``."""
        features, compact = self._compact(rows)
        return np.asarray(compact @ self._weights[features, : len(self.classes)], dtype=np.float32)

    def predict_proba_many(self, rows: sp.csr_matrix) -> FloatMatrix:
        """Probabilities per class (columns in the order of ``classes``)."""
        if not self.classes:
            return np.zeros((rows.shape[0], 0), dtype=np.float32)
        return softmax(self.decision_many(rows) * self.temperature)

    def learn_many(self, rows: sp.csr_matrix, labels: Sequence[str]) -> None:
        """One PA-I step for every row at once (their corrections add up)."""
        if rows.shape[0] == 0:
            return
        truth = self._class_indices(labels)
        n_classes = len(self.classes)
        features, compact = self._compact(rows)
        local = self._weights[features, :n_classes]  # a copy of the rows in use
        scores = np.asarray(compact @ local, dtype=np.float32)
        every = np.arange(len(truth))
        losses = np.maximum(0.0, 1.0 - (scores[every, truth][:, None] - scores))
        losses[every, truth] = 0.0
        violators = np.count_nonzero(losses, axis=1)
        row_of = np.repeat(every, np.diff(compact.indptr))
        squared_norms = np.maximum(np.bincount(row_of, weights=compact.data**2, minlength=len(truth)), 1e-12)
        scale = squared_norms * (1.0 + np.maximum(violators, 1))
        steps = np.minimum(self.C, losses / scale[:, None]).astype(np.float32)
        steps /= self._overlaps(compact, row_of, truth, violators > 0, squared_norms)[:, None]
        steps = -steps
        steps[every, truth] = -steps.sum(axis=1)
        local += np.asarray(compact.T @ steps, dtype=np.float32)
        self._weights[features, :n_classes] = local

    @staticmethod
    def _overlaps(
        compact: sp.csr_matrix,
        row_of: npt.NDArray[np.int64],
        truth: npt.NDArray[np.int64],
        updating: npt.NDArray[np.bool_],
        squared_norms: npt.NDArray[np.float64],
    ) -> npt.NDArray[np.float32]:
        """Per row, its overlap with the updating rows of its category (itself included), at least 1."""
        _, group = np.unique(truth, return_inverse=True)
        groups = int(group.max()) + 1
        keys = compact.indices.astype(np.int64) * groups + group[row_of]
        sums = np.bincount(keys, weights=compact.data * updating[row_of], minlength=compact.shape[1] * groups)
        dots = np.bincount(row_of, weights=compact.data * sums[keys], minlength=len(truth))
        return np.maximum(dots / squared_norms, 1.0).astype(np.float32)

    # -- River's one-at-a-time interface -------------------------------------------------------

    def _row(self, x: dict[Hashable, Any]) -> sp.csr_matrix:
        indices = np.fromiter((int(cast(int, key)) for key in x), dtype=np.int32, count=len(x))
        data = np.fromiter((float(value) for value in x.values()), dtype=np.float32, count=len(x))
        return sp.csr_matrix((data, indices, np.array([0, len(x)])), shape=(1, self.n_features))

    def learn_one(self, x: dict[Hashable, Any], y: Hashable, **kwargs: Any) -> None:
        self.learn_many(self._row(x), [str(y)])

    def predict_proba_one(self, x: dict[Hashable, Any], **kwargs: Any) -> dict[bool | str | int, float]:
        probabilities = self.predict_proba_many(self._row(x))
        return {name: float(p) for name, p in zip(self.classes, probabilities[0], strict=True)}
