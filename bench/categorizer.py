"""Categorizer quality and speed on BANKING77: one pass over a seeded stratified 80/20 split.

Each row streams the training part once through the live pipeline (spaCy tokens, hashed features,
predict then learn in mini-batches with rehearsal) and scores the held-out part. docs/s counts
text preparation, prediction and learning over the training stream on one core (wall clock, and per
second of the process's CPU time, which a busy machine disturbs less); peak memory is
the process's maximum resident set size after the run.
"""

import csv
import itertools
import logging
import resource
from pathlib import Path
from typing import Any

from stream_processors.categorizer import Categorizer, CategorizerConfig, evaluate, stratified_split

log = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77" / "train.csv"


def run(data: Path, seeds: list[int], batch_size: int, reservoirs: list[int]) -> list[dict[str, Any]]:
    with data.open(newline="", encoding="utf-8") as handle:
        examples = [(row["text"], row["category"]) for row in csv.DictReader(handle)]
    rows = []
    for reservoir, seed in itertools.product(reservoirs, seeds):
        train, test = stratified_split(examples, 0.2, seed)
        log.info("reservoir %d, split seed %d: %d train, %d held out", reservoir, seed, len(train), len(test))
        config = CategorizerConfig(reservoir_size=reservoir)
        report = evaluate(Categorizer(config), train, test, batch_size=batch_size)
        rows.append(
            {
                "reservoir": reservoir,
                "split_seed": seed,
                "train": report.train_examples,
                "test": report.test_examples,
                "heldout_accuracy": round(report.heldout_accuracy, 4),
                "macro_f1": round(report.macro_f1, 4),
                "prequential_accuracy": round(report.prequential_accuracy, 4),
                "docs_per_s": round(report.docs_per_second),
                "docs_per_cpu_s": round(report.docs_per_cpu_second),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    return rows
