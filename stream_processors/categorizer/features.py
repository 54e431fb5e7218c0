"""Hashed sparse features: lemma unigrams and bigrams, character n-grams inside words, online TF-IDF.

A document becomes the sorted feature indices it contains and how often (:class:`Counts`), which do
not depend on anything learned; :class:`DocumentFrequencies` turns a batch of them into L2-normalised
TF-IDF rows with the document frequencies counted so far, so weighting keeps up with the stream.
Hashes are CRC-32 (stable across processes, unlike Python's ``hash``), folded into ``2**bits`` slots.
"""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from stream_processors.categorizer.text import TextPreparer

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float32]

_BIGRAM_LEFT = 1_000_003
_BIGRAM_RIGHT = 7_919
_NOTHING: IntArray = np.zeros(0, dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Counts:
    """One document: sorted unique feature indices and their counts."""

    indices: npt.NDArray[np.int32]
    counts: npt.NDArray[np.float32]

    @property
    def nbytes(self) -> int:
        return int(self.indices.nbytes + self.counts.nbytes)


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


class FeatureHasher:
    """Texts to :class:`Counts`: per word its lemma and its character n-grams (cached), plus bigrams.

    >>> hasher = FeatureHasher(TextPreparer(), bits=10)
    >>> [doc] = hasher.count(["card card lost"])
    >>> int(doc.counts.sum())  # 2 x (lemma + 7 n-grams of '<card>') + 8 for 'lost' + 2 bigrams
    26
    >>> bool((doc.indices < 2**10).all())
    True
    """

    def __init__(
        self,
        preparer: TextPreparer,
        *,
        bits: int = 17,
        char_ngrams: tuple[int, int] = (3, 4),
        cache_size: int = 200_000,
    ) -> None:
        self.preparer = preparer
        self.bits = bits
        self.char_ngrams = char_ngrams
        self._mask = (1 << bits) - 1
        self._caches: dict[str | None, dict[int, tuple[int, IntArray]]] = {}  # per language
        self._cache_size = cache_size

    @property
    def n_features(self) -> int:
        return 1 << self.bits

    def _word(self, string_id: int, language: str | None) -> tuple[int, IntArray] | None:
        cache = self._caches.setdefault(language, {})
        cached = cache.get(string_id)
        if cached is None:
            word = self.preparer.string(string_id, language)
            if word.isspace():
                cache[string_id] = (0, _NOTHING)
                return None
            lemma_hash = _crc("w " + self.preparer.lemma(word, language))
            padded = f"<{word}>"
            low, high = self.char_ngrams
            ids = [lemma_hash]
            for n in range(low, high + 1):
                ids.extend(_crc(padded[i : i + n]) for i in range(len(padded) - n + 1))
            cached = (lemma_hash, np.asarray(ids, dtype=np.int64))
            if len(cache) >= self._cache_size:
                cache.clear()
            cache[string_id] = cached
        return cached if len(cached[1]) else None

    def count(self, texts: Sequence[str], languages: Sequence[str] | None = None) -> list[Counts]:
        """Every text's features (each in its language, default the preparer's), counted in one
        vectorised pass over the batch."""
        arrays: list[IntArray] = []
        rows: list[int] = []
        lemmas: list[int] = []
        lemma_rows: list[int] = []
        for row, string_ids in enumerate(self.preparer.tokenize_ids(texts, languages)):
            language = languages[row] if languages is not None else None
            for string_id in string_ids.tolist():
                word = self._word(string_id, language)
                if word is not None:
                    arrays.append(word[1])
                    rows.append(row)
                    lemmas.append(word[0])
                    lemma_rows.append(row)
        if not arrays:
            return [_empty() for _ in texts]
        sizes = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
        ids = np.concatenate(arrays)
        id_rows = np.repeat(np.asarray(rows, dtype=np.int64), sizes)
        lemma_ids = np.asarray(lemmas, dtype=np.int64)
        lemma_owner = np.asarray(lemma_rows, dtype=np.int64)
        same_text = lemma_owner[:-1] == lemma_owner[1:]
        bigrams = (lemma_ids[:-1] * _BIGRAM_LEFT + lemma_ids[1:] * _BIGRAM_RIGHT + 17)[same_text]
        keys = np.concatenate(
            [
                id_rows * self.n_features + (ids & self._mask),
                lemma_owner[:-1][same_text] * self.n_features + (bigrams & self._mask),
            ]
        )
        unique, counts = np.unique(keys, return_counts=True)
        owners = unique // self.n_features
        bounds = np.searchsorted(owners, np.arange(len(texts) + 1))
        indices = (unique % self.n_features).astype(np.int32)
        values = counts.astype(np.float32)
        return [
            Counts(indices[a:b].copy(), values[a:b].copy())
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
        ]


def _empty() -> Counts:
    return Counts(np.zeros(0, np.int32), np.zeros(0, np.float32))


def stack(documents: Sequence[Counts], n_features: int) -> sp.csr_matrix:
    """Documents as rows of a CSR matrix of raw counts."""
    lengths = np.fromiter((len(doc.indices) for doc in documents), dtype=np.int64, count=len(documents))
    indptr = np.zeros(len(documents) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    if documents:
        indices = np.concatenate([doc.indices for doc in documents])
        data = np.concatenate([doc.counts for doc in documents])
    else:
        indices, data = np.zeros(0, np.int32), np.zeros(0, np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(len(documents), n_features))


class DocumentFrequencies:
    """Online document frequencies and the TF-IDF weighting they imply.

    Weight of feature ``j`` in a document: ``(1 + log tf) * log((1 + n) / (1 + df_j) + 1)``,
    each row then scaled to unit length.
    """

    def __init__(self, n_features: int) -> None:
        self.counts = np.zeros(n_features, dtype=np.float64)
        self.documents = 0

    def observe(self, documents: Sequence[Counts]) -> None:
        if documents:
            np.add.at(self.counts, np.concatenate([doc.indices for doc in documents]), 1.0)
            self.documents += len(documents)

    def weigh(self, documents: Sequence[Counts]) -> sp.csr_matrix:
        matrix = stack(documents, len(self.counts))
        idf = np.log((1.0 + self.documents) / (1.0 + self.counts[matrix.indices]) + 1.0)
        data = ((1.0 + np.log(matrix.data)) * idf).astype(np.float32)
        lengths = np.diff(matrix.indptr)
        rows = np.repeat(np.arange(len(documents)), lengths)
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(documents))).astype(np.float32)
        norms[norms == 0] = 1.0
        data /= np.repeat(norms, lengths)
        return sp.csr_matrix((data, matrix.indices, matrix.indptr), shape=matrix.shape)
