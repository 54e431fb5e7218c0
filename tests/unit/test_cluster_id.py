"""Kafka cluster ids: Kafka's format, never read as a command-line option."""

import base64
import doctest
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cxa.stack import kafka
from cxa.stack.kafka import KafkaBroker, new_cluster_id

KAFKA_FORMAT = re.compile(r"[A-Za-z0-9_-]{22}")


def _decoded(cluster_id: str) -> bytes:
    return base64.urlsafe_b64decode(cluster_id + "==")


def test_an_id_is_22_characters_of_url_safe_base64_of_16_bytes() -> None:
    cluster_id = new_cluster_id()
    assert KAFKA_FORMAT.fullmatch(cluster_id), cluster_id
    assert len(_decoded(cluster_id)) == 16
    assert "=" not in cluster_id


def test_no_draw_starts_with_anything_but_a_letter_or_digit() -> None:
    # One random id in 64 would start with "-" (and one in 64 with "_"): 10,000 draws meet both.
    ids = [new_cluster_id() for _ in range(10_000)]
    assert all(KAFKA_FORMAT.fullmatch(cluster_id) for cluster_id in ids)
    assert all(cluster_id[0].isascii() and cluster_id[0].isalnum() for cluster_id in ids)
    assert len(set(ids)) == len(ids)
    assert any("-" in cluster_id[1:] for cluster_id in ids)  # the alphabet is still URL-safe base64


@pytest.mark.parametrize("first", range(0xF8, 0x100), ids=hex)
def test_bytes_that_would_start_with_a_dash_or_underscore_are_fixed(first: int) -> None:
    raw = bytes([first]) + bytes(range(1, 16))
    assert base64.urlsafe_b64encode(raw)[:1] in (b"-", b"_")  # what the old generator made of them
    cluster_id = new_cluster_id(raw)
    assert KAFKA_FORMAT.fullmatch(cluster_id)
    assert cluster_id[0].isalnum(), cluster_id
    assert _decoded(cluster_id)[1:] == raw[1:]  # only the first byte changed


@pytest.mark.parametrize("first", [0x00, 0x41, 0x7F, 0xF7])
def test_other_bytes_are_encoded_as_they_are(first: int) -> None:
    raw = bytes([first]) + bytes(range(100, 115))
    assert _decoded(new_cluster_id(raw)) == raw


@pytest.mark.parametrize("size", [0, 15, 17])
def test_only_16_bytes_make_an_id(size: int) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        new_cluster_id(bytes(size))


def test_the_storage_tool_gets_the_id_as_one_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def run(args: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(kafka.subprocess, "run", run)
    broker = KafkaBroker(home=tmp_path, cache_dir=tmp_path, version="4.1.1", port=1, controller_port=2)
    broker._format_storage("java", tmp_path / "server.properties")
    (args,) = calls
    (option,) = [arg for arg in args if arg.startswith("--cluster-id")]
    assert re.fullmatch(r"--cluster-id=[A-Za-z0-9][A-Za-z0-9_-]{21}", option), option
    assert "-t" not in args


def test_the_docstring_example_holds() -> None:
    runner = doctest.DocTestRunner()
    for example in doctest.DocTestFinder().find(new_cluster_id):
        runner.run(example)
    assert runner.tries > 0
    assert runner.failures == 0
