"""Text preparation with spaCy: its rule-based English tokenizer and the lookup lemma table."""

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt
import spacy
from spacy.attrs import LOWER
from spacy.lookups import load_lookups
from spacy.tokenizer import Tokenizer


class TextPreparer:
    """Lower-cased spaCy tokens of each text, and the dictionary lemma of a word.

    Only spaCy's tokenizer runs per document (batched with ``pipe``); lemmas come from the
    ``lemma_lookup`` table of spacy-lookups-data, which is what spaCy's lookup lemmatizer reads.

    >>> preparer = TextPreparer()
    >>> next(preparer.tokenize(["My cards haven't arrived!"]))
    ['my', 'cards', 'have', "n't", 'arrived', '!']
    >>> preparer.lemma("cards"), preparer.lemma("arrived")
    ('card', 'arrive')
    """

    def __init__(self, language: str = "en", batch_size: int = 256) -> None:
        self._nlp = spacy.blank(language)
        self._tokenizer: Tokenizer = self._nlp.tokenizer
        self._batch_size = batch_size
        lookups = load_lookups(language, ["lemma_lookup"])
        self._table = lookups.get_table("lemma_lookup")

    def tokenize(self, texts: Iterable[str]) -> Iterator[list[str]]:
        for doc in self._tokenizer.pipe(texts, batch_size=self._batch_size):
            yield [token.lower_ for token in doc if not token.is_space]

    def tokenize_ids(self, texts: Iterable[str]) -> Iterator[npt.NDArray[np.uint64]]:
        """Per text, the spaCy string ids of its lower-cased tokens (see :meth:`string`)."""
        for doc in self._tokenizer.pipe(texts, batch_size=self._batch_size):
            yield doc.to_array(LOWER)

    def string(self, string_id: int) -> str:
        return str(self._nlp.vocab.strings[string_id])

    def lemma(self, word: str) -> str:
        lemma = self._table.get(word, word)
        return lemma if isinstance(lemma, str) else word
