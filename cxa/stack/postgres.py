"""A project-local PostgreSQL cluster from the system's server binaries.

PostgreSQL refuses to run as root: when we are root, the cluster runs as the ``postgres``
system user and its data directory belongs to that user. On a normal account it runs as you.
"""

import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psycopg

from cxa.stack.errors import StackError
from cxa.stack.waiting import port_is_open, wait_until

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
SERVICE_USER = "postgres"


def _running_as_root() -> bool:
    return os.geteuid() == 0


@dataclass(frozen=True)
class PostgresCluster:
    """One cluster listening on ``HOST:port`` (TCP only), trusting local connections.

    Meant for development and tests on one machine: it listens on loopback only. Production
    points ``DATABASE_URL`` at a managed PostgreSQL with real credentials instead.
    """

    home: Path
    bin_dir: Path
    port: int
    user: str = "cxa"
    database: str = "cxa"

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{HOST}:{self.port}/{self.database}"

    @cached_property
    def data_dir(self) -> Path:
        home = self.home.resolve()
        home.mkdir(parents=True, exist_ok=True)
        if not _running_as_root() or self._reachable_by_service_user(home):
            return home / "postgres"
        # The service user cannot reach our folder (for example under /root): use a folder of
        # its own, named after ours so that two stacks never share one.
        digest = hashlib.sha1(str(home).encode()).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"cxa-postgres-{digest}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @staticmethod
    def _reachable_by_service_user(path: Path) -> bool:
        result = subprocess.run(
            ["runuser", "-u", SERVICE_USER, "--", "test", "-x", str(path)],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _binary(self, name: str) -> str:
        path = self.bin_dir / name
        if not path.exists():
            raise StackError(
                f"PostgreSQL server binary {path} was not found. Install the server "
                "(Debian: `apt-get install postgresql-15`) or set CXA_POSTGRES_BIN_DIR to the "
                "folder holding initdb and pg_ctl."
            )
        return str(path)

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        if _running_as_root():
            if shutil.which("runuser") is None or not _user_exists(SERVICE_USER):
                raise StackError(
                    "Running as root, PostgreSQL needs the `postgres` system user and `runuser`. "
                    "Install the server package (it creates the user) or run as a normal user."
                )
            args = ["runuser", "-u", SERVICE_USER, "--", *args]
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            raise StackError(f"`{' '.join(args)}` failed:\n{result.stdout}{result.stderr}")
        return result

    def _prepare_data_dir(self) -> None:
        data_dir = self.data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        if _running_as_root():
            shutil.chown(data_dir, SERVICE_USER, SERVICE_USER)
        data_dir.chmod(0o700)

    def initialise(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        log.info("Initialising PostgreSQL in %s", self.data_dir)
        self._prepare_data_dir()
        self._run(
            [
                self._binary("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-instructions",
            ]
        )

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return (
            self._run([self._binary("pg_ctl"), "status", "-D", str(self.data_dir)], check=False).returncode
            == 0
        )

    def is_healthy(self) -> bool:
        try:
            with psycopg.connect(self._admin_url(), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    def _admin_url(self) -> str:
        return f"postgresql://{self.user}@{HOST}:{self.port}/postgres"

    def start(self, timeout: float = 60) -> bool:
        """Start the cluster unless it already runs; returns whether it was started now."""
        self._binary("pg_ctl")
        if self.is_running():
            return False
        if port_is_open(HOST, self.port):
            raise StackError(
                f"Port {self.port} is already in use by another process. Stop it, or choose "
                "another port with CXA_POSTGRES_PORT."
            )
        self.initialise()
        options = (
            f"-p {self.port} -c listen_addresses={HOST} -c unix_socket_directories='' "
            "-c max_connections=200 -c shared_buffers=256MB"
        )
        self._run(
            [
                self._binary("pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                str(int(timeout)),
            ]
        )
        wait_until(self.is_healthy, timeout=timeout, what=f"PostgreSQL on port {self.port}")
        self.create_database(self.database)
        return True

    def create_database(self, name: str) -> None:
        with psycopg.connect(self._admin_url(), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> bool:
        """Stop the cluster this stack started; returns whether it was running."""
        if not self.is_running():
            return False
        self._run([self._binary("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w"])
        return True

    def crash(self) -> None:
        """Stop the server at once, as a power cut would (``pg_ctl stop -m immediate``): connections
        drop without goodbye and the next :meth:`start` (same port) recovers from the WAL. For drills."""
        self._run([self._binary("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate", "-w"])


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
