"""The helpdesks the connectors speak to, by the name in their webhook URL (``/webhooks/{name}``)."""

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.vendors.mapping import VendorMapping
from cxa.events import EventBase

Verify = Callable[[Mapping[str, str], Mapping[str, str], bytes, str, datetime, timedelta], None]
"""(headers, query, body, secret, now, max_age): raises ``Unauthorized`` unless the delivery is genuine."""


@dataclass(frozen=True)
class Assignment:
    """One REST call that gives a ticket to an agent, relative to the helpdesk's API base URL."""

    method: str
    path: str
    body: dict[str, Any]


def basic(user: str, password: str) -> dict[str, str]:
    """An HTTP basic ``Authorization`` header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")}


def rest_id(value: str) -> int | str:
    """A user id as the REST APIs that number their users want it: an integer when it is one."""
    return int(value) if value.isdigit() else value


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
    assign: Callable[[str, str], Assignment]
    """(the vendor's ticket id, the vendor's user id): the call that assigns the ticket."""
    credentials: Callable[[str, str], dict[str, str]]
    """(user, token) from CXA_WRITEBACK_USER and _TOKEN: the headers that authenticate the call."""
    person: Callable[[str], str]
    """A user's or contact's id as the vendor's exports give it: the contract's agent or customer id
    (the one its webhooks map to)."""
    numbered_users: bool = True
    """Whether the assignment call takes a numeric user id (all but Jira's account ids)."""
