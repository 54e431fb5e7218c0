"""The usage examples in docstrings run as tests, so they stay true."""

import doctest
import importlib

import pytest

MODULES = [
    "cxa.deadletters",
    "cxa.events",
    "cxa.metrics",
    "batch.staffing",
    "stream_processors.packing",
    "stream_processors.ingest.deadletters",
    "stream_processors.routing.scoring",
    "stream_processors.categorizer.evaluation",
    "stream_processors.categorizer.features",
    "stream_processors.categorizer.labels",
    "stream_processors.categorizer.classifier",
    "stream_processors.categorizer.monitoring",
    "stream_processors.categorizer.pending",
    "stream_processors.categorizer.pipeline",
    "stream_processors.categorizer.reservoir",
    "stream_processors.categorizer.text",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples: drop it from the list"
    assert result.failed == 0
