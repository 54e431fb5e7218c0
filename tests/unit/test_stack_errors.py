"""The stack fails with messages that name what is missing and how to get it."""

from pathlib import Path

import pytest

from cxa.stack import KafkaBroker, PostgresCluster, StackError


def test_missing_postgres_binaries_name_the_package(tmp_path: Path) -> None:
    cluster = PostgresCluster(home=tmp_path, bin_dir=tmp_path / "nowhere", port=1)
    with pytest.raises(StackError, match=r"apt-get install postgresql-15.*CXA_POSTGRES_BIN_DIR"):
        cluster.start()


def test_missing_java_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    broker = KafkaBroker(
        home=tmp_path / "kafka", cache_dir=tmp_path / "cache", version="4.1.1", port=1, controller_port=2
    )
    with pytest.raises(StackError, match=r"`java` was not found.*openjdk-17-jre-headless"):
        broker.start()


def test_missing_maven_names_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    broker = KafkaBroker(
        home=tmp_path / "kafka", cache_dir=tmp_path / "cache", version="4.1.1", port=1, controller_port=2
    )
    with pytest.raises(StackError, match=r"`mvn` was not found.*apt-get install maven"):
        broker.fetch()


def test_a_stopped_stack_reports_nothing_to_stop(tmp_path: Path) -> None:
    broker = KafkaBroker(
        home=tmp_path / "kafka", cache_dir=tmp_path / "cache", version="4.1.1", port=1, controller_port=2
    )
    assert broker.pid() is None
    assert broker.stop() is False
