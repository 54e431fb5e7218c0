"""The ticket categorizer: spaCy text preparation, hashed features and an online River classifier.

A pure package: no Faust, Kafka or database code; the Faust agents and the CLI are its edges.
"""

from stream_processors.categorizer.checkpoint import (
    CorruptCheckpoint,
    NewerCheckpoint,
    dump,
    load,
    read_header,
)
from stream_processors.categorizer.classifier import PassiveAggressiveClassifier
from stream_processors.categorizer.evaluation import (
    ARRIVALS,
    EvaluationReport,
    arrival_order,
    evaluate,
    macro_f1,
    stratified_split,
)
from stream_processors.categorizer.features import Counts
from stream_processors.categorizer.monitoring import MonitorReport, QualityMonitor
from stream_processors.categorizer.pending import PendingTickets, Waiting
from stream_processors.categorizer.pipeline import Categorizer, CategorizerConfig, Prediction
from stream_processors.categorizer.text import TextPreparer

__all__ = [
    "ARRIVALS",
    "Categorizer",
    "CategorizerConfig",
    "CorruptCheckpoint",
    "Counts",
    "EvaluationReport",
    "MonitorReport",
    "NewerCheckpoint",
    "PassiveAggressiveClassifier",
    "PendingTickets",
    "Prediction",
    "QualityMonitor",
    "TextPreparer",
    "Waiting",
    "arrival_order",
    "dump",
    "evaluate",
    "load",
    "macro_f1",
    "read_header",
    "stratified_split",
]
