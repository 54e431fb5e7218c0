"""Checks that a delivery comes from the helpdesk: signatures and shared tokens, compared in
constant time. Pure: the gateway passes headers, query and the raw body."""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime, timedelta


class Unauthorized(ValueError):
    """The delivery's signature or token is missing or wrong; the message says which (never the secret)."""


class WrongSecret(Unauthorized):
    """Signed or sent with another secret than this one (a gateway that holds several tries each)."""


def same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def token(value: str | None, expected: str, where: str) -> None:
    if value is None:
        raise Unauthorized(f"no token: send it in {where}")
    if not same(value, expected):
        raise WrongSecret(f"wrong token in {where}")


def hmac_sha256(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()


def base64_signature(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac_sha256(secret, message)).decode("ascii")


def hex_signature(secret: str, message: bytes) -> str:
    return hmac_sha256(secret, message).hex()


def recent(signed_at: datetime, now: datetime, max_age: timedelta) -> None:
    """A signed timestamp too old (or too far ahead) is a replay of a captured delivery."""
    if abs(now - signed_at) > max_age:
        raise Unauthorized(
            f"the signature's timestamp {signed_at.isoformat()} is more than {max_age.total_seconds():.0f} s "
            "from the gateway's clock (a replayed delivery, or a clock to fix)"
        )


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, case-insensitively (a plain dict in tests, Starlette's headers in the gateway)."""
    lowered = name.lower()
    return next((value for key, value in headers.items() if key.lower() == lowered), None)
