"""Login rate limiting, decided from the recent failures of a username and of an address."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


def locked_until(failures: Sequence[datetime], now: datetime, policy: LoginPolicy) -> datetime | None:
    """When the lock ends, or None when not locked.

    Locked when ``max_failures`` failures fall within any ``window`` and the last of them is less
    than ``lockout`` ago. ``failures`` are the failed attempts since the last success (any order).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    ordered = sorted(failures)
    n = policy.max_failures
    for end in range(len(ordered) - 1, n - 2, -1):
        if ordered[end] - ordered[end - n + 1] <= policy.window:
            until = ordered[end] + policy.lockout
            return until if until > now else None
    return None
