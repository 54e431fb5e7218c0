"""The helpdesks the gateway speaks to, by the name in their webhook URL (``/webhooks/{name}``)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.vendors.mapping import VendorMapping
from cxa.events import EventBase

Verify = Callable[[Mapping[str, str], Mapping[str, str], bytes, str, datetime, timedelta], None]
"""(headers, query, body, secret, now, max_age): raises ``Unauthorized`` unless the delivery is genuine."""


@dataclass(frozen=True)
class Vendor:
    name: str
    secret_setting: str
    """The gateway setting holding the vendor's secret or token (``CXA_INGEST_<NAME>``)."""
    verify: Verify
    delivery: Callable[[Mapping[str, str], Any], str]
    """(headers, payload): the delivery's own id, the same on the vendor's retries."""
    events: Callable[[Any, VendorMapping, str], list[EventBase]]
    """(payload, mapping, delivery): the contract events; raises ``Unmappable`` saying why not."""
