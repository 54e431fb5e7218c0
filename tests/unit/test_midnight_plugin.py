"""tests/midnight.py really puts each test half a second before midnight UTC, the clock ticking."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import time
from datetime import UTC, datetime


def test_one():
    before = datetime.now(UTC)
    time.sleep(0.7)
    after = datetime.now(UTC)
    assert (before.hour, before.minute, after.hour, after.minute) == (23, 59, 0, 0)
    assert after.date() > before.date()


def test_two_starts_before_midnight_again():
    assert datetime.now(UTC).hour == 23
"""


def test_each_test_starts_just_before_midnight_and_crosses_it(tmp_path: Path) -> None:
    (tmp_path / "test_probe.py").write_text(PROBE)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "tests.midnight",
            "-p",
            "no:cacheprovider",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
