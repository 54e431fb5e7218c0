"""`cxa stack up|status|down` on real binaries: idempotent, and down stops only its own."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cxa.stack import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _cxa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cxa", "stack", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_up_is_idempotent_and_down_stops_what_up_started(tmp_path: Path) -> None:
    env = {
        "CXA_STACK_DIR": str(tmp_path / "stack"),
        "CXA_CACHE_DIR": str(ROOT / ".cache"),
        "CXA_KAFKA_PORT": str(free_port()),
        "CXA_KAFKA_CONTROLLER_PORT": str(free_port()),
        "CXA_KAFKA_HEAP": "256m",
        "CXA_POSTGRES_PORT": str(free_port()),
    }
    try:
        first = _cxa(env, "up")
        assert first.returncode == 0, first.stderr
        assert "kafka     started" in first.stdout
        assert "postgres  started" in first.stdout

        second = _cxa(env, "up")
        assert second.returncode == 0, second.stderr
        assert "kafka     already running" in second.stdout
        assert "postgres  already running" in second.stdout

        status = _cxa(env, "status")
        assert status.returncode == 0, status.stdout
        assert status.stdout.count("healthy") == 2
    finally:
        down = _cxa(env, "down")
    assert down.returncode == 0, down.stderr
    assert "kafka     stopped" in down.stdout
    assert "postgres  stopped" in down.stdout

    after = _cxa(env, "status")
    assert after.returncode == 1
    assert after.stdout.count("down") == 2
    again = _cxa(env, "down")
    assert "was not running" in again.stdout


def test_a_busy_port_is_named_with_the_setting_to_change(tmp_path: Path) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            "CXA_STACK_DIR": str(tmp_path / "stack"),
            "CXA_CACHE_DIR": str(ROOT / ".cache"),
            "CXA_KAFKA_PORT": str(port),
            "CXA_KAFKA_CONTROLLER_PORT": str(free_port()),
        }
        result = _cxa(env, "up")
    assert result.returncode == 1
    assert f"Port {port} is already in use" in result.stderr
    assert "CXA_KAFKA_PORT" in result.stderr
