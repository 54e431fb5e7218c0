"""Categorizer quality and speed on BANKING77, however the labels arrive, beside River's own text
pipelines and a batch linear model.

Each split is a seeded stratified 80/20 split of BANKING77's training file (the copy shipped in
producers/data). The training part streams once through the live pipeline (spaCy tokens, hashed
features, predict then learn in mini-batches with rehearsal) in one of three arrival orders
(stream_processors.categorizer.ARRIVALS: shuffled, sorted by category, half the categories new
halfway), and the held-out part is scored. docs/s counts text preparation, prediction and learning
over the training stream on one core (wall clock, and per second of the process's CPU time, which a
busy machine disturbs less); peak memory is the process's maximum resident set size so far.

Reservoir rows: the same 8,000-example stream with a reservoir of 800 and 80, which is what a
stream 10x and 100x longer than the reservoir does to rehearsal (each stored example stands for 10
or 100 seen ones), with generative replay and, for the orders in blocks, the same run without it
(and, sorted, without the 6x replay while categories arrive in blocks).
Baseline rows: River's standard pipelines, one example at a time
(BagOfWords | MultinomialNB; TFIDF | one-vs-rest PAClassifier; TFIDF | one-vs-rest
LogisticRegression), and a batch TF-IDF (words 1-2 + characters 2-5) linear SVM fitted on the
whole training part at once (scikit-learn; order plays no part), on every split; and the same SVM
on the categorizer's own features, which tells what the online learner leaves from what its
features allow.
"""

import csv
import logging
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from producers.simulation.texts import SHIPPED
from stream_processors.categorizer import (
    ARRIVALS,
    Categorizer,
    CategorizerConfig,
    arrival_order,
    evaluate,
    macro_f1,
    stratified_split,
)
from stream_processors.categorizer.evaluation import Example
from stream_processors.categorizer.pipeline import IN_BLOCKS

log = logging.getLogger(__name__)

DEFAULT_DATA = SHIPPED  # BANKING77's training split, as shipped with the simulator


def peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def ours(
    train: Sequence[Example],
    test: Sequence[Example],
    config: CategorizerConfig,
    batch_size: int,
    in_blocks: int = IN_BLOCKS,
) -> dict[str, Any]:
    categorizer = Categorizer(config)
    categorizer.in_blocks_factor = in_blocks
    report = evaluate(categorizer, train, test, batch_size=batch_size)
    return {
        "heldout_accuracy": round(report.heldout_accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "docs_per_s": round(report.docs_per_second),
        "docs_per_cpu_s": round(report.docs_per_cpu_second),
    }


def river_models() -> dict[str, Callable[[], Any]]:
    from river import feature_extraction, linear_model, multiclass, naive_bayes

    return {
        "River BagOfWords + MultinomialNB": lambda: (
            feature_extraction.BagOfWords(lowercase=True) | naive_bayes.MultinomialNB()
        ),
        "River TFIDF + one-vs-rest PAClassifier": lambda: (
            feature_extraction.TFIDF(lowercase=True)
            | multiclass.OneVsRestClassifier(linear_model.PAClassifier())
        ),
        "River TFIDF + one-vs-rest LogisticRegression": lambda: (
            feature_extraction.TFIDF(lowercase=True)
            | multiclass.OneVsRestClassifier(linear_model.LogisticRegression())
        ),
    }


def river(make: Callable[[], Any], train: Sequence[Example], test: Sequence[Example]) -> dict[str, Any]:
    model = make()
    started, cpu = time.perf_counter(), time.process_time()
    for text, label in train:
        model.predict_one(text)
        model.learn_one(text, label)
    elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu
    guesses = [model.predict_one(text) for text, _ in test]
    return scores(test, guesses, len(train), elapsed, cpu_elapsed)


def batch_svm(train: Sequence[Example], test: Sequence[Example]) -> dict[str, Any]:
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    texts = [text for text, _ in train]
    started, cpu = time.perf_counter(), time.process_time()
    features = hstack([words.fit_transform(texts), chars.fit_transform(texts)]).tocsr()
    model = LinearSVC(C=0.5).fit(features, [label for _, label in train])
    elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu
    held = [text for text, _ in test]
    guesses = list(model.predict(hstack([words.transform(held), chars.transform(held)]).tocsr()))
    return scores(test, guesses, len(train), elapsed, cpu_elapsed)


def batch_svm_on_our_features(train: Sequence[Example], test: Sequence[Example]) -> dict[str, Any]:
    """The same linear SVM on the categorizer's own features (hashed, TF-IDF over the training
    part): what batch training gets from them, apart from how the features are made."""
    from sklearn.svm import LinearSVC

    categorizer = Categorizer()
    started, cpu = time.perf_counter(), time.process_time()
    documents = categorizer.features([text for text, _ in train])
    categorizer.frequencies.observe(documents)
    model = LinearSVC(C=1.0).fit(categorizer.frequencies.weigh(documents), [label for _, label in train])
    elapsed, cpu_elapsed = time.perf_counter() - started, time.process_time() - cpu
    held = categorizer.frequencies.weigh(categorizer.features([text for text, _ in test]))
    return scores(test, list(model.predict(held)), len(train), elapsed, cpu_elapsed)


def scores(
    test: Sequence[Example], guesses: Sequence[Any], trained: int, elapsed: float, cpu_elapsed: float
) -> dict[str, Any]:
    """A baseline's row: held-out accuracy and macro F1, and training speed."""
    truth = [label for _, label in test]
    return {
        "heldout_accuracy": round(sum(g == t for g, t in zip(guesses, truth, strict=True)) / len(test), 4),
        "macro_f1": round(macro_f1(truth, guesses), 4),
        "docs_per_s": round(trained / elapsed),
        "docs_per_cpu_s": round(trained / cpu_elapsed),
    }


def run(data: Path, seeds: list[int], batch_size: int, baselines: bool = True) -> list[dict[str, Any]]:
    with data.open(newline="", encoding="utf-8") as handle:
        examples = [(row["text"], row["category"]) for row in csv.DictReader(handle)]
    rows: list[dict[str, Any]] = []

    def add(model: str, arrival: str, seed: int, reservoir: int | str, figures: dict[str, Any]) -> None:
        rows.append(
            {"model": model, "arrival": arrival, "split_seed": seed, "reservoir": reservoir, **figures}
        )
        rows[-1]["peak_rss_mb"] = peak_mb()
        log.info("%s", rows[-1])

    # Untimed: the first pass of a process loads spaCy's tables and warms its caches, which a
    # worker does once; the rows measure the passes after it.
    warm_train, warm_test = stratified_split(examples[:1000], 0.2, seeds[0])
    ours(warm_train, warm_test, CategorizerConfig(), batch_size)
    for seed in seeds:
        train, test = stratified_split(examples, 0.2, seed)
        for arrival in ARRIVALS:
            add(
                "cxa categorizer",
                arrival,
                seed,
                10_000,
                ours(arrival_order(train, arrival, seed), test, CategorizerConfig(), batch_size),
            )
    train, test = stratified_split(examples, 0.2, seeds[0])
    for arrival in ("shuffled", "sorted"):  # the same run's speed and accuracy of the earlier default
        earlier = CategorizerConfig(rehearsal=6, generated=0)
        figures = ours(arrival_order(train, arrival, seeds[0]), test, earlier, batch_size)
        add("cxa categorizer, earlier default (6x rehearsal, no replay)", arrival, seeds[0], 10_000, figures)
    for reservoir in (800, 80):
        for arrival in ARRIVALS:
            stream = arrival_order(train, arrival, seeds[0])
            config = CategorizerConfig(reservoir_size=reservoir)
            add("cxa categorizer", arrival, seeds[0], reservoir, ours(stream, test, config, batch_size))
            if arrival != "shuffled":  # the same run without generative replay: what it buys
                figures = ours(stream, test, replace(config, generated=0), batch_size)
                add("cxa categorizer, no generative replay", arrival, seeds[0], reservoir, figures)
            if arrival == "sorted":  # and without more of it while categories arrive in blocks
                figures = ours(stream, test, config, batch_size, in_blocks=1)
                add("cxa categorizer, 2x replay in blocks too", arrival, seeds[0], reservoir, figures)
    if baselines:
        for name, make in river_models().items():
            for arrival in ("shuffled", "sorted"):
                add(name, arrival, seeds[0], "-", river(make, arrival_order(train, arrival, seeds[0]), test))
        for seed in seeds:  # on every split, beside ours: the splits differ by more than a point
            train, test = stratified_split(examples, 0.2, seed)
            add("batch TF-IDF + LinearSVC (scikit-learn)", "all at once", seed, "-", batch_svm(train, test))
            figures = batch_svm_on_our_features(train, test)
            add("batch LinearSVC on the categorizer's features", "all at once", seed, "-", figures)
    return rows
