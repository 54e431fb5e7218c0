"""The pure categorizer: it learns, grows new categories, abstains, checkpoints and monitors."""

import csv
import doctest
import importlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from typer.testing import CliRunner

from producers.simulation.texts import SHIPPED
from stream_processors.categorizer import (
    Categorizer,
    CategorizerConfig,
    CorruptCheckpoint,
    PassiveAggressiveClassifier,
    QualityMonitor,
    TextPreparer,
    arrival_order,
    checkpoint,
    dump,
    evaluate,
    load,
    macro_f1,
    stratified_split,
)
from stream_processors.categorizer.cli import app as categorizer_app
from stream_processors.categorizer.features import Counts
from stream_processors.categorizer.labels import Labelled, decode, encode, encode_within
from stream_processors.categorizer.pipeline import IN_BLOCKS, in_blocks
from stream_processors.categorizer.replay import CAPACITY, ClassStatistics
from tests.fixtures.spanish_tickets import spanish_tickets

BANKING77 = SHIPPED  # BANKING77's training split, shipped with the simulator

COLUMNS = ["--text-col", "body", "--label-col", "label"]
MODULES = [
    "checkpoint",
    "evaluation",
    "features",
    "classifier",
    "monitoring",
    "pending",
    "pipeline",
    "replay",
    "reservoir",
    "text",
]


@pytest.fixture(scope="module")
def preparer() -> TextPreparer:
    return TextPreparer()


@pytest.fixture(scope="module")
def banking() -> list[tuple[str, str]]:
    with BANKING77.open(newline="") as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


@pytest.fixture(scope="module")
def banking_sample(banking) -> list[tuple[str, str]]:
    keep = sorted({label for _, label in banking})[:15]
    return [row for row in banking if row[1] in keep]


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module: str) -> None:
    result = doctest.testmod(importlib.import_module(f"stream_processors.categorizer.{module}"))
    assert result.failed == 0


def test_it_learns_banking_intents_in_one_pass(preparer, banking_sample) -> None:
    train, test = stratified_split(banking_sample, 0.2, seed=3)
    report = evaluate(Categorizer(preparer=preparer), train, test, batch_size=16)
    assert report.categories == 15
    assert report.train_examples + report.test_examples == len(banking_sample)
    # chance is 1/15; one pass over ~1,500 examples must do far better
    assert report.heldout_accuracy > 0.8
    assert report.macro_f1 > 0.8
    assert 0.5 < report.prequential_accuracy < report.heldout_accuracy + 0.1


def test_new_categories_can_appear_at_any_time(preparer) -> None:
    categorizer = Categorizer(CategorizerConfig(reservoir_size=50), preparer=preparer)
    words = [
        "card",
        "transfer",
        "refund",
        "pin",
        "cash",
        "fee",
        "rate",
        "app",
        "topup",
        "limit",
        "visa",
        "iban",
    ]
    for name in words[:2]:
        categorizer.learn_texts([f"question about my {name}"] * 3, [name] * 3)
    assert categorizer.classes == ["card", "transfer"]
    for name in words[2:]:  # past the model's initial capacity of 8 columns
        categorizer.learn_texts([f"question about my {name}", f"{name} {name} problem"], [name, name])
    assert categorizer.classes == words
    predicted = [p.category for p in categorizer.predict_texts([f"my {name} problem" for name in words])]
    assert predicted == words


def test_it_abstains_below_the_threshold(preparer) -> None:
    categorizer = Categorizer(preparer=preparer)
    [nothing_yet] = categorizer.predict_texts(["anything"], threshold=0.5)
    assert nothing_yet.category is None
    assert nothing_yet.top == []
    categorizer.learn_texts(["card lost", "transfer failed", "refund please"], ["card", "transfer", "refund"])
    [vague] = categorizer.predict_texts(["hello there"], threshold=0.99)
    assert vague.category is None
    assert vague.best in {"card", "transfer", "refund"}
    assert len(vague.top) == 3
    assert vague.top == sorted(vague.top, key=lambda item: -item[1])
    [sure] = categorizer.predict_texts(["card lost"], threshold=0.0)
    assert sure.category == "card"


def test_river_one_at_a_time_interface() -> None:
    model = PassiveAggressiveClassifier(n_features=16)
    for _ in range(3):
        model.learn_one({1: 1.0, 2: 0.5}, "a")
        model.learn_one({3: 1.0}, "b")
    assert model.predict_one({1: 1.0}) == "a"
    probabilities = model.predict_proba_one({3: 1.0})
    assert set(probabilities) == {"a", "b"}
    assert probabilities["b"] > 0.5
    assert sum(probabilities.values()) == pytest.approx(1.0)


def _trained(preparer: TextPreparer, sample: list[tuple[str, str]]) -> Categorizer:
    categorizer = Categorizer(CategorizerConfig(reservoir_size=200), preparer=preparer)
    for start in range(0, 400, 20):
        batch = sample[start : start + 20]
        categorizer.learn_texts([t for t, _ in batch], [label for _, label in batch])
    return categorizer


def test_checkpoint_round_trip_restores_everything(preparer, banking_sample) -> None:
    stream = stratified_split(banking_sample, 0.2, seed=5)[0]
    original = _trained(preparer, stream)
    restored = load(dump(original), preparer)
    assert restored.classes == original.classes
    assert restored.examples_learned == original.examples_learned == 400
    assert restored.reservoir.labels == original.reservoir.labels
    texts = [t for t, _ in stream[400:500]]
    assert [p.top for p in restored.predict_texts(texts)] == [p.top for p in original.predict_texts(texts)]
    # both continue identically: same weights, document frequencies and rehearsal draws
    more = stream[500:540]
    for model in (original, restored):
        model.learn_texts([t for t, _ in more], [label for _, label in more])
    np.testing.assert_array_equal(restored.model.weights, original.model.weights)


def test_a_learner_restored_in_the_middle_of_a_block_goes_on_as_the_original(
    preparer, banking_sample
) -> None:
    stream = arrival_order(stratified_split(banking_sample, 0.2, seed=5)[0], "sorted")
    # Stop where the latest 64 labels are all of one category, well into the stream.
    cut = next(c for c in range(200, len(stream), 20) if len({label for _, label in stream[c - 64 : c]}) == 1)
    original = Categorizer(CategorizerConfig(reservoir_size=200), preparer=preparer)
    for start in range(0, cut, 20):
        batch = stream[start : start + 20]
        original.learn_texts([t for t, _ in batch], [label for _, label in batch])
    assert in_blocks(original.recent, len(original.statistics.labels))
    restored = load(dump(original), preparer)
    assert list(restored.recent) == list(original.recent)
    assert [label for _, label in restored.latest] == [label for _, label in original.latest]
    # Both rehearse as much, from the same latest documents with the same draws.
    for start in range(cut, cut + 60, 20):
        batch = stream[start : start + 20]
        for model in (original, restored):
            model.learn_texts([t for t, _ in batch], [label for _, label in batch])
    np.testing.assert_array_equal(restored.model.weights, original.model.weights)


def test_statistics_grow_past_their_room_and_keep_every_category() -> None:
    statistics = ClassStatistics(n_features=512, seed=0)
    labels = [f"category_{i}" for i in range(CAPACITY + 3)]
    documents = [Counts(np.array([i, i + 1], np.int32), np.ones(2, np.float32)) for i in range(len(labels))]
    statistics.observe(documents, labels)
    row = sp.csr_matrix(([1.0, 1.0], [CAPACITY + 2, CAPACITY + 3], [0, 2]), shape=(1, 512))
    scores = statistics.log_likelihoods(row, labels)
    assert scores is not None
    assert labels[int(scores.argmax())] == f"category_{CAPACITY + 2}"  # one grown past the room
    copy = ClassStatistics(n_features=512, seed=0)
    copy.restore(statistics.labels, statistics.arrays())
    np.testing.assert_array_equal(copy.log_likelihoods(row, labels), scores)


def test_a_checkpoint_of_the_earlier_format_loads_with_statistics_from_its_reservoir(
    preparer, banking_sample
) -> None:
    original = _trained(preparer, stratified_split(banking_sample, 0.2, seed=5)[0])
    state = checkpoint.snapshot(original)
    header = {k: v for k, v in state.header.items() if not k.startswith("statistics_")}
    arrays = {k: v for k, v in state.arrays.items() if not k.startswith("statistics_")}
    earlier = {name: value for name, value in header["config"].items() if name != "naive_bayes_weight"}
    older = checkpoint.encode(checkpoint.Snapshot({**header, "format": 1, "config": earlier}, arrays))
    restored = load(older, preparer)
    texts = [t for t, _ in banking_sample[:50]]
    # It predicts as the version that wrote it did, from the linear model alone.
    assert restored.config.naive_bayes_weight == 0.0
    original.config = replace(original.config, naive_bayes_weight=0.0)
    assert [p.top for p in restored.predict_texts(texts)] == [p.top for p in original.predict_texts(texts)]
    # Rebuilt from the 200 examples the reservoir kept of the 400 learned.
    assert set(restored.statistics.labels) == set(original.reservoir.labels)
    assert restored.statistics.documents.sum() == len(original.reservoir.labels) == 200
    assert original.statistics.documents.sum() == 400


def test_a_checkpoint_from_before_naive_bayes_predicts_with_it_from_its_complete_statistics(
    preparer, banking_sample
) -> None:
    original = _trained(preparer, stratified_split(banking_sample, 0.2, seed=5)[0])
    state = checkpoint.snapshot(original)
    earlier = {name: value for name, value in state.header["config"].items() if name != "naive_bayes_weight"}
    restored = load(
        checkpoint.encode(
            checkpoint.Snapshot({**state.header, "format": 2, "config": earlier}, state.arrays)
        ),
        preparer,
    )
    assert restored.config.naive_bayes_weight == CategorizerConfig().naive_bayes_weight > 0
    texts = [t for t, _ in banking_sample[:50]]
    assert [p.top for p in restored.predict_texts(texts)] == [p.top for p in original.predict_texts(texts)]


def test_a_checkpoint_with_settings_this_version_lacks_still_loads(preparer) -> None:
    """Written by a newer version: its weights serve; settings unknown here are left out."""
    categorizer = Categorizer(preparer=preparer)
    categorizer.learn_texts(["card lost", "transfer failed"], ["card", "transfer"])
    state = checkpoint.snapshot(categorizer)
    header = {**state.header, "config": {**state.header["config"], "a_later_setting": 1}}
    restored = load(checkpoint.encode(checkpoint.Snapshot(header, state.arrays)), preparer)
    assert restored.config == categorizer.config
    assert restored.predict_texts(["my card is lost"])[0].category == "card"


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-10] + bytes(10),  # payload bytes changed
        lambda blob: blob[: len(blob) // 2],  # truncated
        lambda blob: b"X" + blob[1:],  # not a checkpoint
        lambda blob: blob[:30] + b"{" + blob[31:],  # header damaged
    ],
)
def test_a_corrupt_checkpoint_is_refused(preparer, damage) -> None:
    categorizer = Categorizer(preparer=preparer)
    categorizer.learn_texts(["card lost", "transfer failed"], ["card", "transfer"])
    blob = dump(categorizer)
    with pytest.raises(CorruptCheckpoint):
        load(damage(blob), preparer)


def test_monitor_counts_per_category_and_detects_drift() -> None:
    monitor = QualityMonitor(window=100)
    for _ in range(600):
        monitor.observe("card", False, "card")
    first = monitor.report()
    assert first.rolling_accuracy == 1.0
    assert first.categories["card"].true_positives == 600
    assert first.alarms == []
    for _ in range(300):
        monitor.observe("card", False, "transfer")
    monitor.observe(None, True, "refund")
    second = monitor.report()
    assert second.rolling_accuracy == 0.0
    assert second.rolling_coverage == pytest.approx(0.99)
    assert second.categories["card"].false_positives == 300
    assert second.categories["transfer"].false_negatives == 300
    assert second.categories["refund"].false_negatives == 1
    assert second.alarms, "ADWIN should flag the jump in the error rate"
    assert second.alarms[0].error_rate > 0.1


def test_macro_f1_counts_abstentions_as_misses() -> None:
    assert macro_f1(["a", "b"], ["a", "b"]) == 1.0
    assert macro_f1(["a", "b"], ["a", None]) == pytest.approx((1.0 + 0.0) / 2)


def test_evaluate_command_reports_json(tmp_path, banking_sample) -> None:
    runner = CliRunner()
    source = tmp_path / "all.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["body", "label"])
        writer.writerows(banking_sample[:600])
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    split = runner.invoke(
        categorizer_app,
        ["split", str(source), "--train-out", str(train), "--test-out", str(test), *COLUMNS],
    )
    assert split.exit_code == 0, split.output
    result = runner.invoke(
        categorizer_app,
        ["evaluate", "--train", str(train), "--test", str(test), *COLUMNS, "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["train_examples"] + report["test_examples"] == 600
    assert report["heldout_accuracy"] > 0.3
    assert set(report) >= {"prequential_accuracy", "heldout_accuracy", "macro_f1", "docs_per_second"}


def test_labelled_examples_travel_in_bounded_messages_and_come_back_as_their_own_arrays() -> None:
    rng = np.random.default_rng(3)
    batch = [
        Labelled(
            f"T{i}",
            "card",
            None if i % 2 else "card",
            bool(i % 2),
            Counts(
                np.sort(rng.choice(1 << 17, 300, replace=False)).astype(np.int32), np.ones(300, np.float32)
            ),
        )
        for i in range(100)
    ]
    messages = encode_within(batch, limit=40_000)
    assert len(messages) > 1
    assert all(len(message) < 40_000 for message in messages)
    back = [example for message in messages for example in decode(message)]
    assert [(e.ticket_id, e.predicted, e.abstained) for e in back] == [
        (e.ticket_id, e.predicted, e.abstained) for e in batch
    ]
    assert all(
        np.array_equal(a.features.indices, b.features.indices) for a, b in zip(back, batch, strict=True)
    )
    # Not views of the message: a reservoir keeping one example must not keep the whole message.
    assert all(e.features.indices.base is None and e.features.counts.base is None for e in back)


def test_a_damaged_labels_message_is_refused() -> None:
    good = encode(
        [Labelled("T1", "card", "card", False, Counts(np.arange(3, dtype=np.int32), np.ones(3, np.float32)))]
    )
    with pytest.raises(ValueError, match="magic"):
        decode(b"JUNK" + good[4:])
    with pytest.raises(ValueError, match="bytes of features"):
        decode(good[:-4])
    with pytest.raises(ValueError, match="header"):
        decode(good[:8] + b"[[1]]" + good[13:])


@pytest.mark.parametrize("arrival", ["sorted", "new categories mid-stream"])
def test_categories_arriving_in_blocks_learn_nearly_as_well_as_a_shuffled_stream(
    preparer, banking, arrival
) -> None:
    """All 77 categories, one pass: held-out accuracy within 3 points of the shuffled stream."""
    train, test = stratified_split(banking, 0.2, seed=3)
    shuffled = evaluate(Categorizer(preparer=preparer), arrival_order(train, "shuffled"), test)
    blocks = evaluate(Categorizer(preparer=preparer), arrival_order(train, arrival), test)
    assert shuffled.heldout_accuracy > 0.88
    assert blocks.heldout_accuracy >= shuffled.heldout_accuracy - 0.03


def test_categories_arriving_in_blocks_rehearse_more_whatever_the_batches(preparer, banking_sample) -> None:
    rows = arrival_order(banking_sample, "shuffled", seed=3)
    categorizer = Categorizer(preparer=preparer)
    categorizer.learn_texts([text for text, _ in rows[:96]], [c for _, c in rows[:96]])
    drawn: dict[str, list[int]] = {"reservoir": [], "latest": [], "generated": []}

    def counting(name: str, sample: Callable[[int], Any]) -> Callable[[int], Any]:
        return lambda size: drawn[name].append(size) or sample(size)

    categorizer.reservoir.sample = counting("reservoir", categorizer.reservoir.sample)  # type: ignore[method-assign]
    categorizer._latest = counting("latest", categorizer._latest)  # type: ignore[method-assign]
    categorizer.statistics.sample_uniform = counting("generated", categorizer.statistics.sample_uniform)  # type: ignore[method-assign]
    one = [row for row in rows if row[1] == rows[0][1]][:96]
    for start in range(0, len(one), 4):  # the live learner's batches can be this small
        batch = one[start : start + 4]
        categorizer.learn_texts([text for text, _ in batch], [c for _, c in batch])
    rehearsal, generated = categorizer.config.rehearsal * 4, categorizer.config.generated * 4
    # The latest labels still mixed: the usual rehearsal, none of it from the latest documents.
    assert (drawn["reservoir"][0], drawn["latest"][0], drawn["generated"][0]) == (rehearsal, 0, generated)
    # All of one category: IN_BLOCKS times as much, a third of the stored examples the latest ones.
    stored = IN_BLOCKS * rehearsal
    assert (drawn["reservoir"][-1], drawn["latest"][-1], drawn["generated"][-1]) == (
        stored - stored // IN_BLOCKS,
        stored // IN_BLOCKS,
        IN_BLOCKS * generated,
    )
    assert len(categorizer.latest) == 96 + 96  # the mixed and the block's, the oldest first
    assert categorizer.latest[-1][1] == rows[0][1]


def test_a_category_first_seen_with_a_blank_text_is_learnt_once_it_has_words(preparer) -> None:
    categorizer = Categorizer(preparer=preparer)
    categorizer.learn_texts(["   ", "my card has not arrived"], ["blank_first", "card"])
    assert categorizer.statistics.labels == ["blank_first", "card"]
    _, labels = categorizer.statistics.sample_uniform(20)
    assert set(labels) == {"card"}  # nothing to draw for a category without features yet
    categorizer.learn_texts(["the app shows a blank screen"], ["blank_first"])
    _, labels = categorizer.statistics.sample_uniform(50)
    assert set(labels) == {"blank_first", "card"}


def test_a_stream_a_hundred_times_its_reservoir_still_keeps_the_first_categories(preparer, banking) -> None:
    """Sorted by category through a reservoir of 80: the first categories are long gone from it,
    and only the per-category statistics keep them, in rehearsal (generative replay) and in the
    predictions (naive Bayes). Without either about 20 points are lost."""
    train, test = stratified_split(banking, 0.2, seed=3)
    config = CategorizerConfig(reservoir_size=80)
    shuffled = evaluate(Categorizer(config, preparer), arrival_order(train, "shuffled"), test)

    def sorted_with(**changes: float) -> float:
        categorizer = Categorizer(replace(config, **changes), preparer)
        return evaluate(categorizer, arrival_order(train, "sorted"), test).heldout_accuracy

    sorted_, no_bayes, neither = (
        sorted_with(),
        sorted_with(naive_bayes_weight=0),
        sorted_with(naive_bayes_weight=0, generated=0),
    )
    assert sorted_ >= shuffled.heldout_accuracy - 0.03  # 0.873 against 0.897 on this split
    assert sorted_ >= no_bayes + 0.02
    assert no_bayes >= neither + 0.08


def test_naive_bayes_scores_are_the_smoothed_log_likelihoods_of_the_features_present() -> None:
    statistics = ClassStatistics(n_features=4, smoothing=0.5)
    documents = [Counts(np.array(f, np.int32), np.ones(len(f), np.float32)) for f in ([0, 1], [0], [2])]
    statistics.observe(documents, ["card", "card", "transfer"])
    row = sp.csr_matrix(([0.3, 0.7], [0, 2], [0, 2]), shape=(1, 4))  # features 0 and 2, any weights
    scores = statistics.log_likelihoods(row, ["transfer", "card"])
    assert scores is not None
    # card: feature 0 in 2 of 2 documents, feature 2 in 0 of 2; prior 2/3.
    card = np.log(2.5 / 3) + np.log(0.5 / 3) + np.log(2 / 3)
    transfer = np.log(0.5 / 2) + np.log(1.5 / 2) + np.log(1 / 3)
    assert scores[0] == pytest.approx([transfer, card], rel=1e-5)
    assert statistics.log_likelihoods(row, ["card", "refund"]) is None  # no statistics


def test_predictions_multiply_the_linear_model_by_the_naive_bayes_likelihood(
    preparer, banking_sample
) -> None:
    rows = arrival_order(banking_sample, "shuffled", seed=3)
    categorizer = Categorizer(preparer=preparer)
    categorizer.learn_texts([text for text, _ in rows[:300]], [c for _, c in rows[:300]])
    matrix = categorizer.frequencies.weigh(categorizer.features([text for text, _ in rows[300:310]]))
    linear = categorizer.model.decision_many(matrix) * categorizer.model.temperature
    bayes = categorizer.statistics.log_likelihoods(matrix, categorizer.classes)
    assert bayes is not None
    expected = np.exp(linear + categorizer.config.naive_bayes_weight * bayes)
    expected /= expected.sum(axis=1, keepdims=True)
    assert categorizer.probabilities(matrix) == pytest.approx(expected, rel=1e-4, abs=1e-6)
    categorizer.config = replace(categorizer.config, naive_bayes_weight=0.0)
    assert categorizer.probabilities(matrix) == pytest.approx(categorizer.model.predict_proba_many(matrix))


def test_spanish_tickets_are_tokenised_and_lemmatised_in_spanish(preparer) -> None:
    train, test = spanish_tickets()
    report = evaluate(Categorizer(preparer=preparer), train, test, language="es")
    # Test phrasings never occur in training (other templates): words and lemmas carry over.
    assert report.heldout_accuracy > 0.9
    assert preparer.lemma("llegó", "es") == preparer.lemma("llegará", "es") == "llegar"
    assert preparer.lemma("karten", "de") == "karte"


def test_a_language_spacy_has_no_tokenizer_for_falls_back_to_the_multi_language_one(preparer) -> None:
    assert preparer.language("qq").tokenizer is not None
    assert next(preparer.tokenize(["Karte nicht da"], ["qq"])) == ["karte", "nicht", "da"]
    assert preparer.lemma("cards", "qq") == "cards"  # no lemma table: words kept as they are
    categorizer = Categorizer(preparer=preparer)
    categorizer.learn_texts(["karte nicht da", "geld zurück"], ["card", "refund"], ["qq", "qq"])
    predicted = categorizer.predict_texts(["meine karte", "geld bitte zurück"], languages=["qq", "qq"])
    assert [p.category for p in predicted] == ["card", "refund"]
