"""Chatwoot webhooks: ``conversation_created``, ``conversation_status_changed``,
``conversation_updated`` (assignee, labels), ``message_created`` and ``message_updated`` (the CSAT
survey's answer). A conversation is a ticket; its ``id`` is the display id of Chatwoot's API.

Signed since Chatwoot 4.11.2: ``X-Chatwoot-Signature: sha256=<hex HMAC of "{timestamp}.{body}">``
with ``X-Chatwoot-Timestamp``; older versions sign nothing, so their webhook URL carries
``?token=``. ``X-Chatwoot-Delivery`` identifies a delivery.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from connectors.vendors.auth import Unauthorized, WrongSecret, header, hex_signature, recent, same, token
from connectors.vendors.mapping import (
    BODY_LIMIT,
    SUBJECT_LIMIT,
    Made,
    Unmappable,
    VendorMapping,
    cut,
    entity_id,
    epoch_s,
    iso,
)
from connectors.vendors.registry import Assignment, Vendor, rest_id
from cxa import events
from cxa.events import EventBase, TicketStatus

NAME = "chatwoot"
_RESOLVED = {TicketStatus.SOLVED, TicketStatus.CLOSED}
EVENTS = frozenset(
    {
        "conversation_created",
        "conversation_status_changed",
        "conversation_updated",
        "message_created",
        "message_updated",
    }
)
"""The ``event`` values that make contract events: the webhook's setup subscribes to each
(docs/helpdesks.md); the others (contacts, typing indicators, widget events) carry nothing the
platform keeps."""


def verify(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    max_age: timedelta,
) -> None:
    signature = header(headers, "X-Chatwoot-Signature")
    if signature is None:
        token(
            query.get("token"),
            secret,
            "X-Chatwoot-Signature (Chatwoot 4.11.2+) or ?token= in the webhook URL",
        )
        return
    stamp = header(headers, "X-Chatwoot-Timestamp") or ""
    if not same(signature, f"sha256={hex_signature(secret, stamp.encode('utf-8') + b'.' + body)}"):
        raise WrongSecret(
            "X-Chatwoot-Signature does not match the body "
            "(is CXA_INGEST_CHATWOOT_SECRET the webhook's secret?)"
        )
    if not stamp.isdigit():
        raise Unauthorized(f"X-Chatwoot-Timestamp {stamp!r} is not a Unix time")
    recent(epoch_s(int(stamp)), now, max_age)


def delivery(headers: Mapping[str, str], payload: Any) -> str:
    identifier = header(headers, "X-Chatwoot-Delivery")
    if identifier:
        return identifier
    # Older versions send no delivery id: what changed, on which object, when.
    conversation = payload.get("conversation") or {}
    parts = [
        payload.get("event"),
        payload.get("id"),
        payload.get("updated_at"),
        conversation.get("updated_at"),
        payload.get("changed_attributes"),
        payload.get("content_attributes"),
    ]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _at(value: Any) -> datetime:
    return epoch_s(float(value)) if isinstance(value, int | float) else iso(str(value))


def _changes(payload: Any) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for item in payload.get("changed_attributes") or []:
        changes.update(item)
    return changes


OPENING = timedelta(seconds=60)
"""A contact's messages this soon after the conversation began, before any agent replied, are its
opening request (the created ticket's body), not a reply: Chatwoot sends the first message both in
conversation_created and as its own message_created."""


def _opening(conversation: Mapping[str, Any], moment: datetime) -> bool:
    began = conversation.get("created_at")
    if began is None or conversation.get("first_reply_created_at"):
        return False
    return moment - _at(began) <= OPENING


def to_events(payload: Any, mapping: VendorMapping, delivery_id: str) -> list[EventBase]:
    kind = payload.get("event")
    if not kind:
        raise Unmappable("no event: is this a Chatwoot webhook's delivery?")
    if kind not in EVENTS:
        return []  # contacts, typing indicators and widget events carry nothing the platform keeps
    conversation = payload if kind.startswith("conversation_") else payload.get("conversation") or {}
    if "id" not in conversation:
        raise Unmappable(f"a {kind} delivery without the conversation's id")
    made = Made(NAME, delivery_id, entity_id(NAME, conversation["id"]))
    meta = conversation.get("meta") or {}
    assignee = (meta.get("assignee") or {}).get("id")

    if kind == "conversation_created":
        contact = (meta.get("sender") or {}).get("id")
        if contact is None:
            raise Unmappable("conversation_created without meta.sender.id (the contact)")
        first: dict[str, Any] = next(
            (m for m in conversation.get("messages") or [] if m.get("message_type") in (0, "incoming")), {}
        )
        attributes = conversation.get("additional_attributes") or {}
        text = first.get("content") or ""
        language = str(attributes.get("browser_language") or "")[:2].lower()
        created = _at(conversation["created_at"])
        made.add(
            events.TicketCreated,
            occurred_at=created,
            customer_id=entity_id(NAME, contact),
            channel=mapping.channel(conversation.get("channel")),
            priority=mapping.priority(NAME, conversation.get("priority")),
            subject=cut(attributes.get("mail_subject") or text.split("\n", 1)[0], SUBJECT_LIMIT),
            body=cut(text, BODY_LIMIT),
            language=language if language.isalpha() and len(language) == 2 else mapping.default_language,
        )
        if assignee is not None:
            made.add(events.TicketAssigned, occurred_at=created, agent_id=entity_id(NAME, assignee))
        status = mapping.status(NAME, conversation.get("status") or "open")
        if status != TicketStatus.OPEN:
            made.add(events.TicketStatusChanged, occurred_at=created, status=status)
        return made.events

    at = _at(conversation.get("updated_at") or conversation.get("timestamp"))
    changes = _changes(payload)
    if kind == "conversation_status_changed":
        change = changes.get("status") or {"current_value": conversation.get("status")}
        status = mapping.status(NAME, change["current_value"])
        before = mapping.status(NAME, change["previous_value"]) if change.get("previous_value") else None
        if status == TicketStatus.OPEN and before in _RESOLVED:
            made.add(events.TicketReopened, occurred_at=at)
        elif status != before:
            made.add(events.TicketStatusChanged, occurred_at=at, status=status)
    elif kind == "conversation_updated":  # its status changes come as conversation_status_changed too
        if (changes.get("assignee_id") or {}).get("current_value") is not None:
            agent = entity_id(NAME, changes["assignee_id"]["current_value"])
            made.add(events.TicketAssigned, occurred_at=at, agent_id=agent)
        if "priority" in changes:  # none set is the mapping's default priority
            change = changes["priority"]
            priority = mapping.priority(NAME, change.get("current_value"))
            if priority != mapping.priority(NAME, change.get("previous_value")):
                made.add(events.TicketPriorityChanged, occurred_at=at, priority=priority)
        labels = changes.get("label_list")
        if labels and assignee is not None:  # Chatwoot does not say who changed them: the assignee
            added = set(labels.get("current_value") or []) - set(labels.get("previous_value") or [])
            category = mapping.category_from_tags(sorted(added))
            if category:
                previous = mapping.category_from_tags(sorted(labels.get("previous_value") or []))
                made.category(at, entity_id(NAME, assignee), category, previous)
    elif kind == "message_created":
        sender = payload.get("sender") or {}
        moment = _at(payload["created_at"]) if payload.get("created_at") else at
        if payload.get("message_type") == "incoming" and sender.get("id") is not None:
            if not _opening(conversation, moment):
                customer = entity_id(NAME, sender["id"])
                made.add(events.CustomerReplied, occurred_at=moment, customer_id=customer)
        elif payload.get("message_type") == "outgoing" and sender.get("type") == "user":
            made.add(
                events.AgentReplied,
                occurred_at=moment,
                agent_id=entity_id(NAME, sender["id"]),
                is_public=not payload.get("private", False),
            )
        # bots' and automations' messages, and templates, are nobody's reply
    elif kind == "message_updated" and payload.get("content_type") == "input_csat":
        answer = ((payload.get("content_attributes") or {}).get("submitted_values") or {}).get(
            "csat_survey_response"
        )
        if answer and answer.get("rating") is not None:
            made.add(
                events.CsatSubmitted,
                occurred_at=at,
                rating=int(answer["rating"]),
                comment=cut(answer.get("feedback_message"), 10_000) or None,
            )
    return made.events


def assign(ticket: str, user: str) -> Assignment:
    """Assign a conversation (``POST .../conversations/{id}/assignments``); the base URL ends with
    the account, e.g. ``https://app.chatwoot.com/api/v1/accounts/3``."""
    return Assignment("POST", f"conversations/{ticket}/assignments", {"assignee_id": rest_id(user)})


def credentials(user: str, token: str) -> dict[str, str]:
    """An agent's or bot's access token in the ``api_access_token`` header."""
    return {"api_access_token": token}


VENDOR = Vendor(
    NAME, "chatwoot_secret", verify, delivery, to_events, assign, credentials, partial(entity_id, NAME)
)
