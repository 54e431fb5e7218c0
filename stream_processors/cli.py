"""`cxa worker`: run the stream worker."""

from pathlib import Path

import typer

from stream_processors.app import create_app
from stream_processors.settings import WorkerSettings


def worker(
    log_level: str = typer.Option("info", help="Log level of the worker."),
    log_file: Path | None = typer.Option(
        None, help="Write the log (the worker's and its libraries') to this file, not the console."
    ),
) -> None:
    """Run the Faust stream worker: validate, sink, categorize, keep the floor and route.

    Start more workers with the same CXA_WORKER_APP_ID to scale out (up to one per partition)."""
    from faust.worker import Worker

    settings = WorkerSettings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app(settings)
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
    runner = Worker(app, loglevel=log_level, logfile=None if log_file is None else str(log_file))
    # At WARNING and above, Faust's progress spinner sets the root logger to DEBUG so that it can
    # spin on every record: every library's debug call then builds a record (a fifth of the loop).
    runner.spinner = None
    runner.execute_from_commandline()


def worker_group() -> str:
    """The consumer group of the workers (their Faust app id)."""
    return WorkerSettings().app_id
