"""Per-category feature statistics: pseudo-documents drawn from them to rehearse, and the
naive-Bayes scores the categorizer combines with its linear model.

A bounded reservoir forgets most of a long stream, and when categories arrive in blocks the
categories seen long ago keep only a handful of stored examples, which the model soon fits exactly
and then stops learning from, while later categories keep pushing them down. These statistics
remember every category whatever the order: in how many of its documents each feature occurs,
and how many features a document has (a naive-Bayes model of the category). Pseudo-documents drawn
from them are new every time, so rehearsing them keeps every category represented. The same counts
score a document directly (:meth:`ClassStatistics.log_likelihoods`): a model that does not depend
on the order it learnt in, which the categorizer multiplies with its linear model's probabilities.
"""

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from stream_processors.categorizer.classifier import FloatMatrix
from stream_processors.categorizer.features import Counts

CAPACITY = 128
"""Categories the statistics have room for before growing (as the linear model)."""


class ClassStatistics:
    """Feature document frequencies per category (one dense row each) and draws from them.

    Draws come from a pool of ``pool`` features per category sampled in proportion to those
    frequencies, refreshed whenever the category has grown by a factor ``regrow``.

    >>> stats = ClassStatistics(n_features=8, seed=0)
    >>> stats.observe([Counts(np.array([1, 2], np.int32), np.ones(2, np.float32))], ["card"])
    >>> [doc], labels = stats.sample(np.array([0]))
    >>> labels, set(doc.indices.tolist()) <= {1, 2}, len(doc.indices)
    (['card'], True, 2)
    """

    def __init__(
        self,
        n_features: int,
        *,
        pool: int = 4096,
        regrow: float = 1.25,
        smoothing: float = 0.02,
        seed: int = 0,
    ) -> None:
        self.n_features = n_features
        self.pool = pool
        self.regrow = regrow
        self.smoothing = smoothing
        # Growing copies it all, so there is room for CAPACITY categories from the start. Zeros
        # take memory once written: frequencies a row per category seen; log_counts a row per
        # feature seen, so all of its 64 MiB (2**17 features) soon, however few the categories.
        # log1p(frequency / smoothing), feature-major like the linear model's weights: scoring a
        # batch reads one short row per feature it has.
        self.log_counts = np.zeros((n_features, CAPACITY), dtype=np.float32)
        self.index: dict[str, int] = {}
        self.labels: list[str] = []
        self.frequencies = np.zeros((CAPACITY, n_features), dtype=np.float32)  # category-major rows
        self.documents = np.zeros(CAPACITY, dtype=np.int64)
        self.sizes = np.zeros(CAPACITY, dtype=np.int64)  # features over all its documents
        self.built = np.zeros(CAPACITY, dtype=np.int64)  # documents when its pool was drawn
        self.pools = np.zeros((CAPACITY, pool), dtype=np.int32)
        self._present: list[list[np.ndarray]] = []  # per category, the features it has (once each)
        self.rng = np.random.default_rng(seed)

    def _category(self, label: str) -> int:
        c = self.index.get(label)
        if c is None:
            c = self.index[label] = len(self.labels)
            self.labels.append(label)
            self._present.append([])
            if c == self.frequencies.shape[0]:
                grown = np.zeros((2 * c, self.n_features), dtype=np.float32)
                grown[:c] = self.frequencies
                self.frequencies = grown
                wider = np.zeros((self.n_features, 2 * c), dtype=np.float32)
                wider[:, :c] = self.log_counts
                self.log_counts = wider
                pools = np.zeros((2 * c, self.pool), dtype=np.int32)
                pools[:c] = self.pools
                self.pools = pools
                zeros = np.zeros(c, dtype=np.int64)
                self.documents = np.concatenate([self.documents, zeros])
                self.sizes = np.concatenate([self.sizes, zeros])
                self.built = np.concatenate([self.built, zeros])
        return c

    def observe(self, documents: Sequence[Counts], labels: Sequence[str]) -> None:
        if not documents:
            return
        categories = np.fromiter((self._category(label) for label in labels), np.int64, len(labels))
        lengths = np.fromiter((len(doc.indices) for doc in documents), np.int64, len(documents))
        features = np.concatenate([doc.indices for doc in documents]).astype(np.int64)
        keys, counts = np.unique(
            np.repeat(categories, lengths) * self.n_features + features, return_counts=True
        )
        flat = self.frequencies.reshape(-1)
        new = keys[flat[keys] == 0]
        flat[keys] += counts
        self.log_counts[keys % self.n_features, keys // self.n_features] = np.log1p(
            flat[keys] / self.smoothing
        )
        k = len(self.labels)
        if len(new):
            owner = new // self.n_features
            bounds = np.searchsorted(owner, np.arange(k + 1))
            for c in np.unique(owner).tolist():
                self._present[c].append((new[bounds[c] : bounds[c + 1]] % self.n_features).astype(np.int32))
        self.documents[:k] += np.bincount(categories, minlength=k)
        self.sizes[:k] += np.bincount(categories, weights=lengths, minlength=k).astype(np.int64)
        for c in np.flatnonzero(self.documents[:k] >= self.built[:k] * self.regrow).tolist():
            self._draw_pool(c)

    def _draw_pool(self, c: int) -> None:
        parts = self._present[c]
        if not parts:  # its documents so far have no features (blank texts): nothing to draw from
            return
        if len(parts) > 1:
            parts[:] = [np.concatenate(parts)]
        features = parts[0]
        cumulative = np.cumsum(self.frequencies[c, features], dtype=np.float64)
        points = (np.arange(self.pool) + self.rng.random(self.pool)) * (cumulative[-1] / self.pool)
        picks = np.minimum(np.searchsorted(cumulative, points, side="right"), len(features) - 1)
        self.pools[c] = features[picks]
        self.rng.shuffle(self.pools[c])
        self.built[c] = self.documents[c]

    def sample(self, categories: np.ndarray) -> tuple[list[Counts], list[str]]:
        """A pseudo-document (its features, each counted once) for each category index given;
        as many features as the category's documents have on average."""
        if len(categories) == 0:
            return [], []
        average = self.sizes[categories] / self.documents[categories]
        lengths = np.maximum(1, np.rint(average)).astype(np.int64)
        draws = self.rng.integers(0, self.pool, int(lengths.sum()))
        picks = self.pools[np.repeat(categories, lengths), draws]
        ones = np.ones(len(picks), dtype=np.float32)
        bounds = np.zeros(len(categories) + 1, dtype=np.int64)
        np.cumsum(lengths, out=bounds[1:])
        b = bounds.tolist()
        documents = [Counts(picks[b[i] : b[i + 1]], ones[b[i] : b[i + 1]]) for i in range(len(categories))]
        return documents, [self.labels[c] for c in categories.tolist()]

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Copies of the state a checkpoint keeps (each category's features in the order seen, as
        pools are drawn over that order), for :meth:`restore`."""
        k = len(self.labels)
        present = [np.concatenate(parts) if parts else np.zeros(0, np.int32) for parts in self._present]
        return {
            "present_lengths": np.fromiter((len(p) for p in present), np.int64, k),
            "present": np.concatenate(present or [np.zeros(0, np.int32)]).astype(np.int32),
            "frequencies": np.concatenate(
                [self.frequencies[c, p] for c, p in enumerate(present)] or [np.zeros(0, np.float32)]
            ),
            "documents": self.documents[:k].copy(),
            "sizes": self.sizes[:k].copy(),
            "built": self.built[:k].copy(),
            "pools": self.pools[:k].copy(),
        }

    def restore(self, labels: Sequence[str], arrays: Mapping[str, npt.NDArray[Any]]) -> None:
        """Set the state of :meth:`arrays` (into fresh statistics)."""
        for label in labels:
            self._category(label)
        k = len(self.labels)
        bounds = np.concatenate([[0], np.cumsum(arrays["present_lengths"])]).tolist()
        for c, (a, b) in enumerate(itertools.pairwise(bounds)):
            features = arrays["present"][a:b].astype(np.int32)
            self._present[c] = [features] if len(features) else []
            self.frequencies[c, features] = arrays["frequencies"][a:b]
            self.log_counts[features, c] = np.log1p(arrays["frequencies"][a:b] / self.smoothing)
        self.documents[:k], self.sizes[:k] = arrays["documents"], arrays["sizes"]
        self.built[:k], self.pools[:k] = arrays["built"], arrays["pools"]

    def log_likelihoods(self, rows: sp.csr_matrix, labels: Sequence[str]) -> FloatMatrix | None:
        """Per row and category of ``labels``: the category's log prior plus, for each feature the
        row has, the log of the share of the category's documents that have it (with additive
        ``smoothing``). The features a row lacks are left out, which keeps it as cheap as the
        linear model. None when a label has no statistics (restored from a checkpoint without)."""
        categories = [self.index.get(label) for label in labels]
        if not categories or None in categories or rows.shape[0] == 0:
            return None
        chosen = np.asarray(categories, dtype=np.int64)
        features, columns = np.unique(rows.indices, return_inverse=True)
        present = sp.csr_matrix(
            (np.ones(len(columns), np.float32), columns, rows.indptr), shape=(rows.shape[0], len(features))
        )
        documents = self.documents[chosen].astype(np.float32)
        # log((n + a) / (N + 2a)) = log1p(n / a) + log(a / (N + 2a)): the first is 0 for unseen pairs.
        in_order = np.array_equal(chosen, np.arange(len(chosen)))  # as the linear model learnt them
        counted = (
            self.log_counts[features, : len(chosen)] if in_order else self.log_counts[features][:, chosen]
        )
        scores = np.asarray(present @ counted, dtype=np.float32)
        lengths = np.diff(rows.indptr).astype(np.float32)
        a = self.smoothing
        scores += lengths[:, None] * np.log(a / (documents + 2 * a))[None, :]
        scores += np.log(documents / documents.sum())[None, :]
        return scores

    def sample_uniform(self, size: int) -> tuple[list[Counts], list[str]]:
        """``size`` pseudo-documents of categories drawn uniformly from those with features seen."""
        drawn = np.flatnonzero(self.built[: len(self.labels)] > 0)
        if not len(drawn) or size <= 0:
            return [], []
        return self.sample(drawn[self.rng.integers(0, len(drawn), size)])
