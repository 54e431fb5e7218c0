"""Zendesk event-subscription webhooks (``zen:event-type:ticket.*``, version 2022-11-06).

Signed: ``X-Zendesk-Webhook-Signature`` is base64(HMAC-SHA256(secret, timestamp + body)) with the
timestamp from ``X-Zendesk-Webhook-Signature-Timestamp``; a timestamp older than
``CXA_INGEST_ZENDESK_MAX_AGE_SECONDS`` is a replay. The body's ``id`` identifies the event and is
kept on retries. ``detail`` is the ticket after the change, ``event`` the change itself.

Zendesk has no satisfaction event: a trigger on the satisfaction rating notifies a second webhook
(same URL) with the body we document, typed ``cxa:ticket.satisfaction_rated``.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from connectors.vendors.auth import Unauthorized, WrongSecret, base64_signature, header, recent, same
from connectors.vendors.mapping import (
    BODY_LIMIT,
    SUBJECT_LIMIT,
    Made,
    Unmappable,
    VendorMapping,
    cut,
    entity_id,
    iso,
)
from connectors.vendors.registry import Assignment, Vendor, basic, rest_id
from cxa import events
from cxa.events import EventBase, TicketStatus

NAME = "zendesk"
_TYPE_PREFIX = "zen:event-type:"
SATISFACTION_RATED = "cxa:ticket.satisfaction_rated"
"""The ``type`` of the CSAT trigger's body (docs/helpdesks.md)."""
_RESOLVED = {TicketStatus.SOLVED, TicketStatus.CLOSED}
EVENTS = frozenset(
    {
        "ticket.created",
        "ticket.agent_assignment_changed",
        "ticket.status_changed",
        "ticket.priority_changed",
        "ticket.comment_added",
        "ticket.tags_changed",
        "ticket.custom_field_changed",
    }
)
"""The event types (after ``zen:event-type:``) that make contract events: the webhook's setup
subscribes to each (docs/helpdesks.md); the others carry nothing the platform keeps."""


def verify(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    max_age: timedelta,
) -> None:
    signature = header(headers, "X-Zendesk-Webhook-Signature")
    stamp = header(headers, "X-Zendesk-Webhook-Signature-Timestamp")
    if signature is None or stamp is None:
        raise Unauthorized("no X-Zendesk-Webhook-Signature and -Timestamp headers (is the webhook signed?)")
    if not same(signature, base64_signature(secret, stamp.encode("utf-8") + body)):
        raise WrongSecret(
            "X-Zendesk-Webhook-Signature does not match the body "
            "(is CXA_INGEST_ZENDESK_SECRET the webhook's signing secret?)"
        )
    try:
        signed_at = iso(stamp)
    except (ValueError, Unmappable):
        raise Unauthorized(f"X-Zendesk-Webhook-Signature-Timestamp {stamp!r} is not a time") from None
    recent(signed_at, now, max_age)


def delivery(headers: Mapping[str, str], payload: Any) -> str:
    invocation = header(headers, "X-Zendesk-Webhook-Invocation-Id")
    if payload.get("type") == SATISFACTION_RATED and invocation:
        # The body's id is to the minute: two answers in one minute are two invocations.
        return f"invocation:{invocation}"
    if not payload.get("id"):
        raise Unmappable("a Zendesk event without its id")
    account = payload.get("account_id") or header(headers, "X-Zendesk-Account-Id")
    return f"{account}:{payload['id']}"


def to_events(payload: Any, mapping: VendorMapping, delivery_id: str) -> list[EventBase]:
    kind = str(payload.get("type") or "")
    if kind == SATISFACTION_RATED:
        return _satisfaction(payload, mapping, delivery_id)
    if not kind.startswith(_TYPE_PREFIX):
        # Neither Zendesk's event nor our trigger's body (a typo in its type, say): not to ignore.
        raise Unmappable(
            f"type {kind!r} is neither a Zendesk event ({_TYPE_PREFIX}...) nor the CSAT trigger's "
            f"{SATISFACTION_RATED!r} (docs/helpdesks.md, Zendesk step 5)"
        )
    kind = kind.removeprefix(_TYPE_PREFIX)
    if kind not in EVENTS:
        return []  # user, organization and other ticket events carry nothing the platform keeps
    detail = payload.get("detail") or {}
    change = payload.get("event") or {}
    ticket = detail.get("id") or str(payload.get("subject") or "").removeprefix("zen:ticket:")
    if not ticket:
        raise Unmappable(f"a {kind} event without its ticket (detail.id, or subject zen:ticket:<id>)")
    ticket_id = entity_id(NAME, ticket)
    at = iso(payload["time"])
    requester = str(detail.get("requester_id") or "")
    actor = str(detail.get("actor_id") or "")
    agent = entity_id(NAME, actor) if actor and actor != requester else None
    made = Made(NAME, delivery_id, ticket_id)
    add = made.add

    if kind == "ticket.created":
        if not requester:
            raise Unmappable("ticket.created without detail.requester_id")
        add(
            events.TicketCreated,
            occurred_at=iso(detail["created_at"]) if detail.get("created_at") else at,
            customer_id=entity_id(NAME, requester),
            channel=mapping.channel((detail.get("via") or {}).get("channel")),
            priority=mapping.priority(NAME, detail.get("priority")),
            subject=cut(detail.get("subject"), SUBJECT_LIMIT),
            body=cut(detail.get("description"), BODY_LIMIT),
            language=mapping.default_language,
        )
        if detail.get("assignee_id"):
            add(events.TicketAssigned, occurred_at=at, agent_id=entity_id(NAME, detail["assignee_id"]))
        status = mapping.status(NAME, detail.get("status") or "new")
        if status != TicketStatus.OPEN:  # created straight into pending, on hold or solved
            add(events.TicketStatusChanged, occurred_at=at, status=status, agent_id=agent)
    elif kind == "ticket.agent_assignment_changed":
        if change.get("current"):
            add(events.TicketAssigned, occurred_at=at, agent_id=entity_id(NAME, change["current"]))
    elif kind == "ticket.status_changed":
        status = mapping.status(NAME, change["current"])
        before = mapping.status(NAME, change["previous"]) if change.get("previous") else None
        if status == TicketStatus.OPEN and before in _RESOLVED:
            add(events.TicketReopened, occurred_at=at, customer_id=None if agent else _customer(requester))
        elif status != before:
            add(events.TicketStatusChanged, occurred_at=at, status=status, agent_id=agent)
    elif kind == "ticket.priority_changed":
        priority = mapping.priority(NAME, change.get("current"))
        if change.get("previous") is None or priority != mapping.priority(NAME, change.get("previous")):
            add(events.TicketPriorityChanged, occurred_at=at, priority=priority, agent_id=agent)
    elif kind == "ticket.comment_added":
        comment = change.get("comment") or {}
        if _opening(detail, comment, at):
            return []  # the ticket's description, the body of ticket.created: nobody's reply
        author = str((comment.get("author") or {}).get("id") or "")
        if not author:
            raise Unmappable("ticket.comment_added without event.comment.author.id")
        is_staff = (comment.get("author") or {}).get("is_staff")
        if author == requester or is_staff is False:
            add(events.CustomerReplied, occurred_at=at, customer_id=entity_id(NAME, author))
        else:
            add(
                events.AgentReplied,
                occurred_at=at,
                agent_id=entity_id(NAME, author),
                is_public=comment.get("is_public", True) is not False,
            )
    elif kind == "ticket.tags_changed" and agent:
        added, removed = _tag_change(change, detail)
        category = mapping.category_from_tags(added)
        if category:
            made.category(at, agent, category, mapping.category_from_tags(removed))
    elif kind == "ticket.custom_field_changed" and agent and mapping.category_field:
        field = change.get("custom_field") or {}
        if mapping.category_field in (str(field.get("id")), field.get("title")) and change.get("current"):
            made.category(at, agent, str(change["current"]), change.get("previous") or None)
    return made.events


OPENING = timedelta(seconds=60)
"""How soon after a ticket's creation a comment with its description's text is that description."""


def _opening(detail: Any, comment: Any, at: datetime) -> bool:
    """Whether a comment is the ticket's first, its description (``detail.description``), which
    ticket.created already carries as the ticket's body. Whether Zendesk sends comment_added for it
    as well could not be established (tests/fixtures/webhooks/zendesk/NOTES.md); should it, it
    would count as a reply the moment the ticket is created (as Chatwoot's opening message did). A
    comment is taken for the description only with the same text, within ``OPENING`` of the
    ticket's creation: a later or different comment is a reply, as before."""
    body, description = str(comment.get("body") or "").strip(), str(detail.get("description") or "").strip()
    if not body or body != description or not detail.get("created_at"):
        return False
    return at - iso(detail["created_at"]) <= OPENING


def _satisfaction(payload: Any, mapping: VendorMapping, delivery_id: str) -> list[EventBase]:
    """The CSAT trigger's body. Offered and unoffered surveys are no rating."""
    ticket = (payload.get("detail") or {}).get("id")
    if not ticket:
        raise Unmappable("a satisfaction rating without detail.id: is the body the documented template?")
    rating = payload.get("rating")
    if isinstance(rating, str) and rating.strip().lower() in {"", "offered", "unoffered"}:
        return []
    made = Made(NAME, delivery_id, entity_id(NAME, ticket))
    made.add(
        events.CsatSubmitted,
        occurred_at=iso(payload["time"]),
        rating=mapping.rating(NAME, rating),
        comment=cut(payload.get("comment"), 10_000) or None,
    )
    return made.events


def _tag_change(change: Any, detail: Any) -> tuple[list[str], list[str]]:
    """The tags a ``ticket.tags_changed`` added and removed. Zendesk's example of this event could
    not be read: ``tags_added``/``tags_removed`` (its older event family's names), ``current``/
    ``previous`` (its other ``*_changed`` events') and, failing both, the ticket's ``detail.tags``
    (all its tags after the change, as if just added) are accepted."""
    if "tags_added" in change or "tags_removed" in change:
        return _strings(change.get("tags_added")), _strings(change.get("tags_removed"))
    if isinstance(change.get("current"), list):
        current, previous = _strings(change["current"]), _strings(change.get("previous"))
        return sorted(set(current) - set(previous)), sorted(set(previous) - set(current))
    return _strings(detail.get("tags")), []


def _strings(values: Any) -> list[str]:
    return [str(value) for value in values] if isinstance(values, list) else []


def _customer(requester: str) -> str | None:
    return entity_id(NAME, requester) if requester else None


def assign(ticket: str, user: str) -> Assignment:
    """Update Ticket (``PUT /api/v2/tickets/{id}``); Zendesk's REST ids are integers."""
    return Assignment("PUT", f"api/v2/tickets/{ticket}", {"ticket": {"assignee_id": rest_id(user)}})


def credentials(user: str, token: str) -> dict[str, str]:
    """An API token: ``{email}/token:{token}`` in basic auth."""
    return basic(f"{user}/token", token)


VENDOR = Vendor(
    NAME, "zendesk_secret", verify, delivery, to_events, assign, credentials, partial(entity_id, NAME)
)
