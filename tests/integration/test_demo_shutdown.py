"""`cxa demo` on the session's real Kafka and PostgreSQL (`--no-stack`): Ctrl-C or SIGTERM stops
every process it started, grandchildren included, and leaves no database connection behind."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from sqlalchemy.engine import make_url

from cxa import db
from cxa.stack import free_port
from tests.conftest import Stack
from tests.integration.processes import flat_shape, one_row, wait_for

pytestmark = pytest.mark.integration

SERVICES = {"worker": ("worker",), "dashboard": ("dashboard", "serve"), "simulator": ("simulate", "live")}


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.Error:
        return []


def _cxa_command(process: psutil.Process) -> tuple[str, ...]:
    """The cxa subcommand ``process`` runs (``("simulate", "live")``), or () if it runs none."""
    args = _cmdline(process)
    return tuple(args[3:]) if args[1:3] == ["-m", "cxa"] else ()


def _service(process: psutil.Process) -> str | None:
    command = _cxa_command(process)
    return next((name for name, words in SERVICES.items() if command[: len(words)] == words), None)


def _describe(process: psutil.Process) -> str:
    return f"pid {process.pid}: {' '.join(_cmdline(process)) or process.name()}"


def _alive(process: psutil.Process) -> bool:
    """Still running (``is_running`` also sees through a reused pid); a zombie has ended."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def _connections(stack: Stack, url: str) -> list[tuple[object, ...]]:
    """The connections to ``url``'s database (but the one asking)."""
    with db.connect(stack.admin_url) as conn:
        rows = conn.execute(
            "SELECT pid, application_name, state, left(query, 80) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (make_url(url).database,),
        ).fetchall()
    return [tuple(row) for row in rows]


def _raw_events(url: str) -> int:
    return int(
        one_row(
            url, "SELECT (SELECT count(*) FROM raw.ticket_events) + (SELECT count(*) FROM raw.agent_events)"
        )[0]
    )


class Demo:
    """A `cxa demo --no-stack` process and every process seen under it."""

    def __init__(self, stack: Stack, database_url: str, tmp_path: Path, *args: str, **settings: str) -> None:
        seed = 500_000 + uuid.uuid4().int % 100_000
        self.port = free_port()
        self.worker_log_path = tmp_path / "stack" / "logs" / "worker.log"  # under CXA_STACK_DIR
        # Saved credentials: the demo creates no users (three slow processes fewer).
        (tmp_path / "stack").mkdir()
        (tmp_path / "stack" / "demo-credentials.json").write_text(
            json.dumps({"password": "demo-password", "secret_key": "0" * 64})
        )
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
            "DATABASE_URL": database_url,
            "CXA_STACK_DIR": str(tmp_path / "stack"),
            "CXA_WORKER_APP_ID": f"cxa-demo-{seed}",
            "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
            "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
            "CXA_DASHBOARD_PORT": str(self.port),
            "CXA_DBT_TARGET_DIR": str(tmp_path / "dbt"),
            "CXA_SIM_SEED": str(seed),
            "CXA_SIM_CUSTOMERS": "200",
            "CXA_SIM_AGENTS": "10",
            "CXA_SIM_SHIFT_STARTS": "[0, 4, 8, 12, 16, 20]",
            **settings,
        }
        self.log = tmp_path / "demo.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "cxa", "demo", "--no-stack", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._parent = psutil.Process(self.process.pid)
        self.seen: dict[int, psutil.Process] = {}

    def running(self) -> list[psutil.Process]:
        """Every process under the demo that is alive now (remembered, to check on them later)."""
        try:
            for process in self._parent.children(recursive=True):
                self.seen.setdefault(process.pid, process)
        except psutil.NoSuchProcess:
            pass
        return [process for process in self.seen.values() if _alive(process)]

    def wait_until(self, ready: Callable[[list[psutil.Process]], bool], what: str) -> None:
        def probe() -> bool:
            assert self.process.poll() is None, (
                f"the demo ended early:\n{self.output()[-3000:]}\nworker:\n{self.worker_log()[-3000:]}"
            )
            return ready(self.running())

        wait_for(probe, timeout=90, what=what)

    def stop(self, sig: signal.Signals) -> tuple[int, float, list[str]]:
        """Send ``sig``; the exit status, the seconds the demo took to end, and the processes it
        started that are still alive 5 s after it ended (a reparented orphan may take a moment)."""
        self.running()  # every process alive at the signal
        sent = time.monotonic()
        self.process.send_signal(sig)
        status = self.process.wait(timeout=60)
        seconds = time.monotonic() - sent
        deadline = time.monotonic() + 5
        while self.left() and time.monotonic() < deadline:
            time.sleep(0.1)
        return status, seconds, [_describe(process) for process in self.left()]

    def left(self) -> list[psutil.Process]:
        return [process for process in self.seen.values() if _alive(process)]

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_log(self) -> str:
        path = self.worker_log_path
        return path.read_text(errors="replace") if path.exists() else "(no worker log)"

    def close(self) -> None:
        """Kill whatever is left, so that a failed test leaves nothing running for the suite."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for process in self.left():
            process.kill()


def _history(database_url: str) -> None:
    """A row in raw: the demo skips the backfill and the nightly run and goes live at once."""
    with db.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO raw.ticket_events (event_id, event_type, schema_version, ticket_id, occurred_at,"
            " payload) VALUES (%s, 'ticket.created', 1, 'history', now(), '{}')",
            (uuid.uuid4(),),
        )


def _assert_no_connection(stack: Stack, database_url: str) -> None:
    wait_for(
        lambda: not _connections(stack, database_url),
        timeout=10,
        what="every connection to the test database to close",
    )


EXIT_STATUS = {signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGHUP: 128 + signal.SIGHUP, signal.SIGINT: 0}
"""SIGTERM and SIGHUP (a closed terminal) end the demo as signals do; Ctrl-C is its normal end."""


@pytest.mark.parametrize("stop", list(EXIT_STATUS), ids=lambda stop: stop.name)
def test_the_live_demo_stops_every_process_it_started(
    stack: Stack, database_url: str, tmp_path: Path, stop: signal.Signals
) -> None:
    _history(database_url)
    # Live events at any hour: the shipped arrival shape is near zero on weekend nights.
    shape = str(flat_shape(tmp_path))
    demo = Demo(stack, database_url, tmp_path, "--speed", "120", CXA_SIM_SHAPE_PATH=shape)
    try:
        demo.wait_until(
            lambda processes: {_service(process) for process in processes} >= SERVICES.keys(),
            "the worker, the dashboard and the simulator to run",
        )
        wait_for(lambda: _answers(f"http://127.0.0.1:{demo.port}/"), timeout=60, what="the dashboard")
        # The worker stores what the live simulator publishes: every service is at work.
        wait_for(lambda: _raw_events(database_url) > 1, timeout=60, what="live events in raw")
        # At 120x the simulation runs ahead of the wall clock, and the demo's worker takes it.
        wait_for(
            lambda: one_row(
                database_url,
                "SELECT greatest((SELECT max(occurred_at) FROM raw.ticket_events),"
                " (SELECT max(occurred_at) FROM raw.agent_events)) > now() + interval '5 minutes'",
            )[0],
            timeout=60,
            what="live events dated over 5 minutes ahead in raw",
        )
        assert _connections(stack, database_url)  # there is something to close
        status, seconds, left = demo.stop(stop)
    finally:
        demo.close()
    output = demo.output()
    assert not left
    assert status == EXIT_STATUS[stop], output[-3000:]
    assert seconds < 30, output[-3000:]
    assert "killing it" not in output  # each stopped by itself, within its grace
    assert "delivered " in output  # the simulator flushed what it had queued
    # The worker logs to its file; the console keeps to the demo's own lines.
    assert f"worker    started, logging to {demo.worker_log_path}" in output
    assert demo.worker_log_path.exists()
    assert "[WARNING]" not in output, output[-3000:]
    assert "[ERROR]" not in output, output[-3000:]
    _assert_no_connection(stack, database_url)


def test_the_demo_stops_the_nightly_job_and_the_dbt_under_it(
    stack: Stack, database_url: str, tmp_path: Path
) -> None:
    # A worker that only stores: the demo waits for it to catch up on the history before the nightly.
    demo = Demo(
        stack,
        database_url,
        tmp_path,
        "--history-days",
        "1",
        CXA_WORKER_CATEGORIZER_ENABLED="false",
        CXA_WORKER_ROUTING_ENABLED="false",
    )

    def dbt_runs(processes: list[psutil.Process]) -> bool:
        """dbt, started by the nightly job (a grandchild of the demo), runs."""
        nightly = {process.pid for process in processes if _cxa_command(process)[:2] == ("batch", "nightly")}
        return any(
            process.ppid() in nightly and "dbt" in " ".join(_cmdline(process)) for process in processes
        )

    try:
        demo.wait_until(dbt_runs, "the nightly job's dbt to run")
        status, seconds, left = demo.stop(signal.SIGTERM)
    finally:
        demo.close()
    output = demo.output()
    assert not left
    assert status == 128 + signal.SIGTERM, output[-3000:]
    assert seconds < 30, output[-3000:]
    _assert_no_connection(stack, database_url)
