"""Run dbt (build, docs) against the database named by DATABASE_URL, as a subprocess."""

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from batch.settings import BatchSettings

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt exited non-zero; the message carries the tail of its output."""


@dataclass(frozen=True)
class DbtResult:
    command: list[str]
    output: str


def dbt_environment(database_url: str, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for dbt: the profile's CXA_DBT_* variables from ``database_url``.

    They override any CXA_DBT_* already set, so dbt always builds the database the rest of the
    batch job reads and writes (set them yourself only to run dbt by hand).
    """
    env = dict(os.environ if base is None else base)
    url = make_url(database_url)
    defaults = {
        "CXA_DBT_HOST": url.host or "127.0.0.1",
        "CXA_DBT_PORT": str(url.port or 5432),
        "CXA_DBT_USER": url.username or "postgres",
        "CXA_DBT_PASSWORD": url.password or "",
        "CXA_DBT_DBNAME": url.database or "postgres",
    }
    env.update(defaults)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def run_dbt(
    args: Sequence[str],
    database_url: str,
    settings: BatchSettings,
    dbt_vars: str | None = None,
) -> DbtResult:
    """Run ``dbt <args>`` in the project; raise :class:`DbtFailed` with its output if it fails."""
    project = settings.dbt_project_dir
    command = [
        sys.executable,
        "-c",
        "from dbt.cli.main import cli; cli()",
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
    ]
    if settings.dbt_target_dir is not None:
        command += ["--target-path", str(settings.dbt_target_dir / "target")]
    if dbt_vars:
        command += ["--vars", dbt_vars]
    env = dbt_environment(database_url)
    if settings.dbt_target_dir is not None:
        env["DBT_LOG_PATH"] = str(Path(settings.dbt_target_dir) / "logs")
    log.info("dbt %s", " ".join(args))
    process = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    output = process.stdout + process.stderr
    for line in process.stdout.splitlines():
        log.debug("dbt: %s", line)
    if process.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise DbtFailed(f"dbt {' '.join(args)} failed (exit {process.returncode}):\n{tail}")
    return DbtResult(command, output)


def build(database_url: str, settings: BatchSettings, dbt_vars: str | None = None) -> DbtResult:
    """``dbt build``: seeds, models and their tests (a full refresh if the settings ask for it)."""
    args = ["build"] + (["--full-refresh"] if settings.dbt_full_refresh else [])
    return run_dbt(args, database_url, settings, dbt_vars)


def generate_docs(database_url: str, settings: BatchSettings) -> DbtResult:
    return run_dbt(["docs", "generate"], database_url, settings)
