"""Text preparation with spaCy: each language's rule-based tokenizer and lookup lemma table.

A ticket carries its ``language`` (ISO 639-1). Its text is tokenised by that language's blank spaCy
pipeline and its words lemmatised with that language's ``lemma_lookup`` table of
spacy-lookups-data (English, German, Spanish, French, Italian, Portuguese, Dutch and some 20 more
have one). A language spaCy has no tokenizer for falls back to spaCy's multi-language ("xx")
tokenizer; a language without a lemma table keeps its words as they are. Both are logged once.
"""

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import spacy
from spacy.attrs import LOWER
from spacy.lookups import Table, load_lookups
from spacy.strings import StringStore
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

log = logging.getLogger(__name__)

FALLBACK = "xx"
"""spaCy's multi-language tokenizer, for languages it has no tokenizer of their own for."""


@dataclass(frozen=True)
class Language:
    """One language's tokenizer, the strings its tokens resolve to, and its lemma table (if any)."""

    code: str
    tokenizer: Tokenizer
    strings: StringStore
    lemmas: Table | None


def load_language(code: str) -> Language:
    try:
        nlp = spacy.blank(code)
    except ImportError:
        log.warning("spaCy has no tokenizer for language %r: using its multi-language one", code)
        nlp = spacy.blank(FALLBACK)
    lookups = load_lookups(nlp.lang or FALLBACK, ["lemma_lookup"], strict=False)
    lemmas = lookups.get_table("lemma_lookup") if lookups.has_table("lemma_lookup") else None
    if lemmas is None:
        log.info("no lemma table for language %r: its words are kept as they are", code)
    return Language(code, nlp.tokenizer, nlp.vocab.strings, lemmas)


class TextPreparer:
    """Lower-cased spaCy tokens of each text, and the dictionary lemma of a word, per language.

    Only spaCy's tokenizer runs per document (batched with ``pipe``); lemmas come from the
    ``lemma_lookup`` table of spacy-lookups-data, which is what spaCy's lookup lemmatizer reads.
    Token ids are spaCy's string hashes, the same in every language; :meth:`string` resolves one in
    the language whose tokenizer made it.

    >>> preparer = TextPreparer()
    >>> next(preparer.tokenize(["My cards haven't arrived!"]))
    ['my', 'cards', 'have', "n't", 'arrived', '!']
    >>> preparer.lemma("cards"), preparer.lemma("arrived")
    ('card', 'arrive')
    >>> next(preparer.tokenize(["¿Dónde está mi tarjeta?"], ["es"]))
    ['¿', 'dónde', 'está', 'mi', 'tarjeta', '?']
    >>> preparer.lemma("tarjetas", "es"), preparer.lemma("llegado", "es"), preparer.lemma("karten", "de")
    ('tarjeta', 'llegar', 'karte')
    """

    def __init__(self, language: str = "en", batch_size: int = 256) -> None:
        self.default = language
        self._batch_size = batch_size
        self._languages: dict[str, Language] = {language: load_language(language)}

    def language(self, code: str | None) -> Language:
        """The language's pipeline, loaded on first use."""
        code = code or self.default
        if code not in self._languages:
            self._languages[code] = load_language(code)
        return self._languages[code]

    def _docs(self, texts: Iterable[str], languages: Sequence[str] | None) -> Iterator[Doc]:
        if languages is None:
            yield from self.language(None).tokenizer.pipe(texts, batch_size=self._batch_size)
            return
        texts = list(texts)
        docs: list[Doc] = [None] * len(texts)  # type: ignore[list-item]  # every row is filled below
        for code in dict.fromkeys(languages):
            rows = [i for i, language in enumerate(languages) if language == code]
            pipe = self.language(code).tokenizer.pipe((texts[i] for i in rows), batch_size=self._batch_size)
            for row, doc in zip(rows, pipe, strict=True):
                docs[row] = doc
        yield from docs

    def tokenize(self, texts: Iterable[str], languages: Sequence[str] | None = None) -> Iterator[list[str]]:
        for doc in self._docs(texts, languages):
            yield [token.lower_ for token in doc if not token.is_space]

    def tokenize_ids(
        self, texts: Iterable[str], languages: Sequence[str] | None = None
    ) -> Iterator[npt.NDArray[np.uint64]]:
        """Per text, the spaCy string ids of its lower-cased tokens (see :meth:`string`)."""
        for doc in self._docs(texts, languages):
            yield np.asarray(doc.to_array(LOWER), dtype=np.uint64)

    def string(self, string_id: int, language: str | None = None) -> str:
        return str(self.language(language).strings[string_id])

    def lemma(self, word: str, language: str | None = None) -> str:
        """The lower-cased lemma of a lower-cased word (a capitalised entry, such as a German noun's,
        is found too), or the word itself."""
        table = self.language(language).lemmas
        if table is None:
            return word
        lemma = table.get(word) or table.get(word.capitalize())
        return lemma.lower() if isinstance(lemma, str) else word
