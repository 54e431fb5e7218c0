"""Child processes started together and stopped together, in bounded time (for `cxa demo`).

Each child leads a process group of its own, so stopping it also stops what it started (dbt under
the nightly job), and a Ctrl-C at the terminal reaches the parent alone, which stops them all.
"""

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import typer

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block ends, then act on the first one that came."""
    held: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: held.append(signum)) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if held:
            signal.raise_signal(held[0])


def _tell(message: str) -> None:
    """Say something on stderr, which may be a terminal that has gone (SIGHUP)."""
    with suppress(OSError):
        typer.secho(message, fg=typer.colors.YELLOW, err=True)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _signal_group(group: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


@dataclass(frozen=True)
class Child:
    process: subprocess.Popen[bytes]
    command: str
    stop_signal: signal.Signals
    grace_seconds: float


class ChildProcesses:
    """Processes started together, stopped together on the way out, in bounded time.

    Each child leads a process group of its own: stopping it stops whatever it started in turn (dbt
    under the nightly job), and a Ctrl-C at the terminal reaches the demo alone, which stops them all.
    """

    def __init__(self) -> None:
        self._children: list[Child] = []

    def start(
        self,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        stop_signal: signal.Signals = signal.SIGINT,
        grace_seconds: float = 10.0,
    ) -> Child:
        """Start a child; ``stop_signal`` (SIGINT: as Ctrl-C would) asks it to stop, and it gets
        ``grace_seconds`` to do so before it and its group are killed."""
        with _signals_held():  # a stop signal now would lose a started child before it is recorded
            process = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, process_group=0)
            child = Child(process, " ".join(args), stop_signal, grace_seconds)
            self._children.append(child)
        return child

    def run(self, args: list[str], *, env: dict[str, str] | None = None, check: bool = True) -> int:
        """Start a child and wait for its end; its exit code, or CalledProcessError if ``check``."""
        child = self.start(args, env=env)
        returncode = child.process.wait()
        if not _group_alive(child.process.pid):
            self._children.remove(child)  # its pid is free again: never signal that group later
        if check and returncode != 0:
            raise subprocess.CalledProcessError(returncode, args)
        return returncode

    def stop(self) -> None:
        """Ask every child group to stop at once, wait for each up to its grace, then kill the rest."""
        if not self._children:
            return
        longest = max(child.grace_seconds for child in self._children)
        _tell(f"stopping {len(self._children)} processes (at most {longest:g} s)")
        asked = time.monotonic()
        for child in reversed(self._children):  # the simulator first, the worker last
            _signal_group(child.process.pid, child.stop_signal)
        for child in reversed(self._children):
            if not self._ended(child, asked + child.grace_seconds):
                _tell(f"`{child.command}` (pid {child.process.pid}) did not stop: killing it")
                _signal_group(child.process.pid, signal.SIGKILL)
                self._ended(child, time.monotonic() + 10)
        self._children.clear()

    @staticmethod
    def _ended(child: Child, deadline: float) -> bool:
        """Wait until the child and everything in its group have ended; False at ``deadline``."""
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return False
        while _group_alive(child.process.pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True
