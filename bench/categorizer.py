"""Categorizer quality and speed on BANKING77, however the labels arrive, beside River's own text
pipelines and a batch linear model.

Each split is a seeded stratified 80/20 split of BANKING77's training file (the copy shipped in
producers/data). The training part streams once through the live pipeline (spaCy tokens, hashed
features, predict then learn in mini-batches with rehearsal) in one of three arrival orders
(stream_processors.categorizer.ARRIVALS: shuffled, sorted by category, half the categories new
halfway), and the held-out part is scored. docs/s counts text preparation, prediction and learning
over the training stream on one core (wall clock, and per second of the process's CPU time, which a
busy machine disturbs less); peak memory is the process's maximum resident set size so far.

Each configuration runs on every split, beside the same stream without naive Bayes in the
predictions (the earlier default; shuffled and sorted). Reservoir rows: the same 8,000-example
streams with a reservoir of 800 and 80, which is what a stream 10x and 100x longer than the
reservoir does to rehearsal (each stored example stands for 10 or 100 seen ones), and, sorted on
the first split, the same run without generative replay.
Official rows (``--test``, BANKING77's published test.csv, which the project does not ship): the
whole training file streamed once in its published order (sorted by category) and shuffled, with
reservoirs of 10,000, 1,000 and 100, scored on the official test split, and with the model's random
seed 1 to 4 instead of 0 (what its own draws move).
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

log = logging.getLogger(__name__)

DEFAULT_DATA = SHIPPED  # BANKING77's training split, as shipped with the simulator


def peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def ours(
    train: Sequence[Example],
    test: Sequence[Example],
    config: CategorizerConfig,
    batch_size: int,
) -> dict[str, Any]:
    categorizer = Categorizer(config)
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


def read_examples(path: Path) -> list[Example]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def run(
    data: Path, seeds: list[int], batch_size: int, baselines: bool = True, official_test: Path | None = None
) -> list[dict[str, Any]]:
    examples = read_examples(data)
    rows: list[dict[str, Any]] = []

    def add(model: str, arrival: str, seed: int | str, reservoir: int | str, figures: dict[str, Any]) -> None:
        rows.append(
            {"model": model, "arrival": arrival, "split_seed": seed, "reservoir": reservoir, **figures}
        )
        rows[-1]["peak_rss_mb"] = peak_mb()
        log.info("%s", rows[-1])

    # Untimed: the first pass of a process loads spaCy's tables and warms its caches, which a
    # worker does once; the rows measure the passes after it.
    warm_train, warm_test = stratified_split(examples[:1000], 0.2, seeds[0])
    ours(warm_train, warm_test, CategorizerConfig(), batch_size)
    without_bayes = CategorizerConfig(naive_bayes_weight=0.0)
    for reservoir in (10_000, 800, 80):
        config = CategorizerConfig(reservoir_size=reservoir)
        for seed in seeds:
            train, test = stratified_split(examples, 0.2, seed)
            for arrival in ARRIVALS:
                stream = arrival_order(train, arrival, seed)
                add("cxa categorizer", arrival, seed, reservoir, ours(stream, test, config, batch_size))
                if arrival == "new categories mid-stream":
                    continue
                # The same stream without naive Bayes in the predictions (the earlier default) and,
                # sorted, without generative replay: what each buys.
                figures = ours(stream, test, replace(config, naive_bayes_weight=0.0), batch_size)
                add("cxa categorizer, no naive Bayes in predictions", arrival, seed, reservoir, figures)
                if arrival == "sorted" and reservoir < 10_000 and seed == seeds[0]:
                    figures = ours(stream, test, replace(config, generated=0), batch_size)
                    add("cxa categorizer, no generative replay", arrival, seed, reservoir, figures)
    if official_test is not None:  # the whole training file, in its published order and shuffled
        test = read_examples(official_test)
        for arrival in ("as published (sorted)", "shuffled"):
            stream = examples if arrival.startswith("as published") else arrival_order(examples, arrival)
            for reservoir in (10_000, 1_000, 100):
                config = CategorizerConfig(reservoir_size=reservoir)
                add("cxa categorizer", arrival, "official", reservoir, ours(stream, test, config, batch_size))
            figures = ours(stream, test, without_bayes, batch_size)
            add("cxa categorizer, no naive Bayes in predictions", arrival, "official", 10_000, figures)
            for seed in range(1, 5):  # the model's own random draws (reservoir, rehearsal, replay)
                figures = ours(stream, test, CategorizerConfig(seed=seed), batch_size)
                add(f"cxa categorizer, model seed {seed}", arrival, "official", 10_000, figures)
        if baselines:
            add(
                "batch TF-IDF + LinearSVC (scikit-learn)",
                "all at once",
                "official",
                "-",
                batch_svm(examples, test),
            )
    train, test = stratified_split(examples, 0.2, seeds[0])
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
