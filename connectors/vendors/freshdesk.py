"""Freshdesk automation-rule webhooks, whose body is the template we document (docs/helpdesks.md,
and tests/fixtures/webhooks/freshdesk/TEMPLATE.md): one rule per ``event``, values from Freshdesk's
placeholders (words for status, priority and source; times in the helpdesk's time zone).

Freshdesk signs nothing: the rule sends our shared secret in ``X-Cxa-Token`` (or as the basic-auth
password, or as ``?token=`` in the URL). Placeholders give no delivery id, so one is made from the
ticket, the event, the update time and what triggered it; Freshdesk re-sends the same body on retries.
People are known by email only; their ids are the email, made safe for the contract.

Who did what fired the rule is ``performer`` (``{{event_performer.email}}``: Freshdesk's rule engine
renders it, its help articles do not list it); where it is empty a reply is the assigned agent's.
A category is read from the tags (or ``category_field``) of the delivery that resolves a ticket.
"""

import hashlib
import html
import re
from base64 import b64decode
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.vendors.auth import Unauthorized, WrongSecret, header, same
from connectors.vendors.mapping import (
    BODY_LIMIT,
    SUBJECT_LIMIT,
    Made,
    Unmappable,
    VendorMapping,
    cut,
    entity_id,
)
from connectors.vendors.registry import Assignment, Vendor, basic, rest_id
from cxa import events
from cxa.events import EventBase, TicketStatus

NAME = "freshdesk"
UNASSIGNED = "freshdesk:unassigned"
"""The agent of a reply when the body names neither who replied nor an assigned agent."""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
_TAG = re.compile(r"<[^>]+>")
_STATUS_CHANGE = re.compile(r"status:\{from:(\d+),to:(\d+)\}")
_RESOLVED_CODES = {"4", "5"}  # Resolved, Closed (REST API v2 codes)
_RESOLVED = {TicketStatus.SOLVED, TicketStatus.CLOSED}
_COMMENTED = {"agent_replied", "customer_replied", "note_added", "public_note_added"}
EVENTS = (
    "ticket_created",
    "ticket_assigned",
    "ticket_status_changed",
    "agent_replied",
    "note_added",
    "public_note_added",
    "customer_replied",
    "ticket_priority_changed",
    "csat_submitted",
)
"""The ``event`` values of our template, one per automation rule (docs/helpdesks.md, Freshdesk)."""


def verify(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    max_age: timedelta,
) -> None:
    given = header(headers, "X-Cxa-Token") or query.get("token")
    authorization = header(headers, "Authorization") or ""
    if given is None and authorization.startswith("Basic "):
        try:
            given = b64decode(authorization.removeprefix("Basic ")).decode("utf-8").partition(":")[2]
        except ValueError:
            raise Unauthorized("the Authorization header is not basic auth") from None
    if given is None:
        raise Unauthorized("no token: set the X-Cxa-Token header in the rule's webhook action")
    if not same(given, secret):
        raise WrongSecret("wrong token (is CXA_INGEST_FRESHDESK_TOKEN the rule's X-Cxa-Token?)")


def delivery(headers: Mapping[str, str], payload: Any) -> str:
    ticket = payload.get("ticket") or {}
    comment = payload.get("latest_public_comment", "") + payload.get("latest_private_comment", "")
    parts = [ticket.get("id"), payload.get("event"), ticket.get("updated_at"), payload.get("triggered_event")]
    if payload.get("event") in _COMMENTED:
        parts.append(comment)
    elif payload.get("event") == "csat_submitted":
        parts.append(payload.get("rating"))  # a changed answer, with the ticket's time unchanged
    return hashlib.sha256("\n".join(map(str, parts)).encode("utf-8")).hexdigest()


def person_id(email: str) -> str:
    """A contract id from an email: readable when short enough, else its digest."""
    local = _UNSAFE.sub("_", email.strip().lower().replace("@", ":"))
    return (
        f"{NAME}:{local}" if len(local) <= 54 else f"{NAME}:{hashlib.sha256(email.encode()).hexdigest()[:32]}"
    )


def _time(value: str | None, mapping: VendorMapping) -> datetime:
    if not value:
        raise Unmappable("no time: the template's ticket.updated_at ({{ticket.modified_on}}) is empty")
    try:
        zone = ZoneInfo(mapping.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unmappable(f"unknown time zone {mapping.time_zone!r} under [freshdesk] time_zone") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Unmappable(f"the time {value!r} is not 'YYYY-MM-DD HH:MM:SS'") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def _text(value: str | None) -> str:
    """Placeholders give HTML: the text a reader (and the categorizer) sees."""
    return html.unescape(_TAG.sub(" ", value or "")).strip()


def _person(value: Any) -> str | None:
    """The id of a ``{"name": ..., "email": ...}`` of the template; None when it is empty."""
    email = str(value.get("email") or "").strip() if isinstance(value, dict) else ""
    return person_id(email) if email else None


def _tags(value: Any) -> list[str]:
    """``{{ticket.tags}}``: ``"billing, invoice"``, or ``""`` without tags."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    return [tag for tag in (str(item).strip() for item in items) if tag]


def _category(ticket: Mapping[str, Any], mapping: VendorMapping) -> str | None:
    """The category field the template carries (``category_field``, a key under ``ticket``), else
    the category tag."""
    field = mapping.category_field
    value = html.unescape(str(ticket.get(field) or "")).strip() if field else ""
    return value or mapping.category_from_tags(_tags(ticket.get("tags")))


def to_events(payload: Any, mapping: VendorMapping, delivery_id: str) -> list[EventBase]:
    kind = payload.get("event")
    if kind not in EVENTS:
        # Our own template: an event we cannot read is a rule's typo, not something to ignore.
        raise Unmappable(
            f"event {kind!r} is none of the template's ({', '.join(EVENTS)}): give the rule's body "
            "the template and the rule's event of docs/helpdesks.md (Freshdesk)"
        )
    ticket = payload.get("ticket") or {}
    if not ticket.get("id"):
        raise Unmappable("no ticket.id: is the body the documented template?")
    made = Made(NAME, delivery_id, entity_id(NAME, ticket["id"]))
    at = _time(ticket.get("updated_at"), mapping)
    requester = (payload.get("requester") or {}).get("email") or ""
    agent = _person(payload.get("agent"))  # the assigned agent
    customer = person_id(requester) if requester else None
    performer = _person(payload.get("performer"))
    doer = performer if performer and performer != customer else agent  # an agent who did it

    if kind == "ticket_created":
        if not requester:
            raise Unmappable("ticket_created without requester.email")
        created = _time(ticket.get("created_at") or ticket.get("updated_at"), mapping)
        made.add(
            events.TicketCreated,
            occurred_at=created,
            customer_id=person_id(requester),
            channel=mapping.channel(ticket.get("source")),
            priority=mapping.priority(NAME, ticket.get("priority")),
            subject=cut(ticket.get("subject"), SUBJECT_LIMIT),
            body=cut(_text(ticket.get("description")), BODY_LIMIT),
            language=mapping.default_language,
        )
        if agent:
            made.add(events.TicketAssigned, occurred_at=created, agent_id=agent)
        status = mapping.status(NAME, ticket.get("status") or "open")
        if status != TicketStatus.OPEN:
            made.add(events.TicketStatusChanged, occurred_at=created, status=status)
    elif kind == "ticket_assigned":
        if agent:  # else the agent was removed: the contract has no unassignment, so no event
            made.add(events.TicketAssigned, occurred_at=at, agent_id=agent)
    elif kind == "ticket_status_changed":
        status = mapping.status(NAME, ticket.get("status") or "")
        change = _STATUS_CHANGE.search(payload.get("triggered_event") or "")
        was_resolved = bool(change and change.group(1) in _RESOLVED_CODES)
        if status == TicketStatus.OPEN and was_resolved:
            made.add(events.TicketReopened, occurred_at=at)
        else:
            made.add(events.TicketStatusChanged, occurred_at=at, status=status, agent_id=doer)
        # No rule fires on a tag change: the category is the one the ticket is resolved with
        # (once, not again when a resolved ticket is closed). Freshdesk gives no earlier category.
        category = _category(ticket, mapping) if status in _RESOLVED and not was_resolved else None
        if category and doer:
            made.category(at, doer, category, None)
    elif kind in {"agent_replied", "note_added", "public_note_added"}:
        made.add(
            events.AgentReplied,
            occurred_at=at,
            agent_id=doer or UNASSIGNED,
            is_public=kind != "note_added",  # a public note is a response, as Freshdesk counts it
        )
    elif kind == "customer_replied":
        if customer is None:
            raise Unmappable("customer_replied without requester.email ({{ticket.requester.email}})")
        made.add(events.CustomerReplied, occurred_at=at, customer_id=customer)
    elif kind == "ticket_priority_changed":
        priority = mapping.priority(NAME, ticket.get("priority"))
        made.add(events.TicketPriorityChanged, occurred_at=at, priority=priority, agent_id=doer)
    elif kind == "csat_submitted":
        # No placeholder gives the answer: one rule per answer sends it as a constant. The survey
        # may leave the ticket's update time as it was; the rating then carries that time.
        if payload.get("rating") in (None, ""):
            raise Unmappable(
                'csat_submitted without "rating": each customer-feedback rule sends its answer '
                "(docs/helpdesks.md, Freshdesk rule 8)"
            )
        made.add(events.CsatSubmitted, occurred_at=at, rating=mapping.rating(NAME, payload["rating"]))
    return made.events


def assign(ticket: str, user: str) -> Assignment:
    """Update a ticket's agent (``PUT /api/v2/tickets/{id}`` with ``responder_id``)."""
    return Assignment("PUT", f"api/v2/tickets/{ticket}", {"responder_id": rest_id(user)})


def credentials(user: str, token: str) -> dict[str, str]:
    """The API key as the basic-auth user, ``X`` as the password."""
    return basic(token, "X")


VENDOR = Vendor(NAME, "freshdesk_token", verify, delivery, to_events, assign, credentials, person_id)
