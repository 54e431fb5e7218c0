"""Bounded polling for services that take a moment to come up."""

import socket
import time
from collections.abc import Callable

from cxa.stack.errors import StackError


def wait_until(ready: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.25) -> None:
    """Poll ``ready`` until it returns true; raise :class:`StackError` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise StackError(f"{what} did not become ready within {timeout:.0f} s")
        time.sleep(interval)


def port_is_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
