"""Jira Service Management (Jira Cloud) webhooks: ``jira:issue_created``, ``jira:issue_updated``
(its changelog: assignee, status, labels, the category field) and ``comment_created``.

Authenticated by ``X-Hub-Signature: sha256=<hex HMAC of the body>`` (an admin webhook saved with a
secret), or, for a webhook without one, by ``?token=`` in its URL. Deliveries are identified by
``X-Atlassian-Webhook-Identifier``, which Jira keeps on its retries.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from connectors.vendors.auth import WrongSecret, header, hex_signature, same, token
from connectors.vendors.mapping import (
    BODY_LIMIT,
    SUBJECT_LIMIT,
    Made,
    Unmappable,
    VendorMapping,
    cut,
    entity_id,
    epoch_ms,
    iso,
)
from connectors.vendors.registry import Assignment, Vendor, basic
from cxa import events
from cxa.events import EventBase, TicketStatus

NAME = "jira"
_CATEGORY_FALLBACK = {
    "new": TicketStatus.OPEN,
    "indeterminate": TicketStatus.OPEN,
    "done": TicketStatus.SOLVED,
}
_RESOLVED = {TicketStatus.SOLVED, TicketStatus.CLOSED}
EVENTS = frozenset({"jira:issue_created", "jira:issue_updated", "comment_created"})
"""The ``webhookEvent`` values that make contract events: the webhook's setup subscribes to each
(docs/helpdesks.md); the others (worklogs, links, deletions) carry nothing the platform keeps."""


def verify(
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    secret: str,
    now: datetime,
    max_age: timedelta,
) -> None:
    signature = header(headers, "X-Hub-Signature")
    if signature is None:
        token(query.get("token"), secret, "X-Hub-Signature (a webhook secret) or ?token= in the webhook URL")
        return
    if not same(signature, f"sha256={hex_signature(secret, body)}"):
        raise WrongSecret(
            "X-Hub-Signature does not match the body (is CXA_INGEST_JIRA_SECRET the webhook's secret?)"
        )


def delivery(headers: Mapping[str, str], payload: Any) -> str:
    identifier = header(headers, "X-Atlassian-Webhook-Identifier")
    if identifier:
        return identifier
    # Without the header (a proxy dropped it): what the delivery is about, and when.
    what = (payload.get("changelog") or payload.get("comment") or {}).get("id", "")
    issue = (payload.get("issue") or {}).get("id")
    return f"{payload.get('webhookEvent')}:{issue}:{what}:{payload.get('timestamp')}"


def _text(value: Any) -> str:
    """A plain string, or the text of an Atlassian Document Format tree."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        own = value.get("text", "")
        inner = "".join(_text(child) for child in value.get("content", []))
        return own + inner + ("\n" if value.get("type") == "paragraph" else "")
    return ""


def _field_text(value: Any) -> str | None:
    """A custom field's value: a string, a select option, or a request type."""
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("value", "name"):
            if isinstance(value.get(key), str):
                return value[key] or None
        if isinstance(value.get("requestType"), dict):
            return _field_text(value["requestType"])
    return None


def _known_status(mapping: VendorMapping, name: str | None, category: str | None) -> TicketStatus | None:
    """A status by its name in the mapping, else by its Jira status category, else None."""
    if name and name.lower() in {k.lower() for k in mapping.statuses}:
        return mapping.status(NAME, name)
    return _CATEGORY_FALLBACK.get(category or "")


def _status(mapping: VendorMapping, name: str | None, category: str | None) -> TicketStatus:
    status = _known_status(mapping, name, category)
    if status is None:
        raise Unmappable(
            f"status {name!r} is not in the mapping: add it under [jira.statuses] in CXA_INGEST_MAPPING_FILE"
        )
    return status


def _previous_status(mapping: VendorMapping, name: str | None, items: list[Any]) -> TicketStatus | None:
    """The status a change left, only to tell a reopen: None (not a reopen) when it is unknown.

    The changelog gives the previous status's name but not its category; a resolution cleared in
    the same change says that it was a done one."""
    cleared = any(
        (item.get("fieldId") or str(item.get("field", "")).lower()) == "resolution"
        and item.get("from")
        and not item.get("to")
        for item in items
    )
    return _known_status(mapping, name, "done" if cleared else None)


def _actor(payload: Any) -> str | None:
    user = payload.get("user") or {}
    return entity_id(NAME, user["accountId"]) if user.get("accountId") else None


def to_events(payload: Any, mapping: VendorMapping, delivery_id: str) -> list[EventBase]:
    kind = payload.get("webhookEvent")
    if not kind:
        raise Unmappable("no webhookEvent: is this a Jira webhook's delivery?")
    if kind not in EVENTS:
        return []  # other events (worklogs, links, deletions) carry nothing the platform keeps
    issue = payload.get("issue")
    if not isinstance(issue, dict) or "id" not in issue:
        raise Unmappable(f"a {kind} delivery without issue.id")
    ticket_id = entity_id(NAME, issue["id"])
    fields = issue.get("fields") or {}
    made = Made(NAME, delivery_id, ticket_id)
    add = made.add

    if kind == "jira:issue_created":
        reporter = fields.get("reporter") or fields.get("creator") or payload.get("user") or {}
        if not reporter.get("accountId"):
            raise Unmappable("jira:issue_created without a reporter accountId")
        created = iso(fields["created"]) if fields.get("created") else epoch_ms(payload["timestamp"])
        add(
            events.TicketCreated,
            occurred_at=created,
            customer_id=entity_id(NAME, reporter["accountId"]),
            channel=mapping.channel(None),
            priority=mapping.priority(NAME, (fields.get("priority") or {}).get("name")),
            subject=cut(fields.get("summary"), SUBJECT_LIMIT),
            body=cut(_text(fields.get("description")), BODY_LIMIT),
            language=mapping.default_language,
        )
        if (fields.get("assignee") or {}).get("accountId"):
            add(
                events.TicketAssigned,
                occurred_at=created,
                agent_id=entity_id(NAME, fields["assignee"]["accountId"]),
            )
        return made.events
    if kind == "jira:issue_updated":
        at = epoch_ms(payload["timestamp"])
        actor = _actor(payload)
        category_now = (fields.get("status") or {}).get("statusCategory", {}).get("key")
        items = (payload.get("changelog") or {}).get("items", [])
        for item in items:
            field = item.get("fieldId") or str(item.get("field", "")).lower()
            if field == "assignee" and item.get("to"):
                add(events.TicketAssigned, occurred_at=at, agent_id=entity_id(NAME, item["to"]))
            elif field == "status":
                status = _status(mapping, item.get("toString"), category_now)
                before = _previous_status(mapping, item.get("fromString"), items)
                if status == TicketStatus.OPEN and before in _RESOLVED:
                    add(events.TicketReopened, occurred_at=at)
                else:
                    add(events.TicketStatusChanged, occurred_at=at, status=status, agent_id=actor)
            elif field == "priority":
                priority = mapping.priority(NAME, item.get("toString"))
                if item.get("fromString") is None or priority != mapping.priority(NAME, item["fromString"]):
                    add(events.TicketPriorityChanged, occurred_at=at, priority=priority, agent_id=actor)
            elif actor and field == "labels":
                added = set((item.get("toString") or "").split()) - set(
                    (item.get("fromString") or "").split()
                )
                removed = set((item.get("fromString") or "").split())
                category = mapping.category_from_tags(sorted(added))
                if category:
                    previous = mapping.category_from_tags(sorted(removed))
                    made.category(at, actor, category, previous)
            elif actor and mapping.category_field and field == mapping.category_field:
                category = item.get("toString") or _field_text(fields.get(field))
                if category:
                    made.category(at, actor, category, item.get("fromString") or None)
        return made.events
    if kind == "comment_created":
        comment = payload.get("comment") or {}
        author = comment.get("author") or {}
        if not author.get("accountId"):
            raise Unmappable("comment_created without comment.author.accountId")
        at = iso(comment["created"]) if comment.get("created") else epoch_ms(payload["timestamp"])
        reporter = (fields.get("reporter") or {}).get("accountId")
        if author.get("accountType") == "customer" or author["accountId"] == reporter:
            add(events.CustomerReplied, occurred_at=at, customer_id=entity_id(NAME, author["accountId"]))
        else:
            add(
                events.AgentReplied,
                occurred_at=at,
                agent_id=entity_id(NAME, author["accountId"]),
                is_public=comment.get("jsdPublic", True) is not False,
            )
    return made.events


def assign(ticket: str, user: str) -> Assignment:
    """Assign issue (``PUT /rest/api/3/issue/{id}/assignee``), by the agent's accountId."""
    return Assignment("PUT", f"rest/api/3/issue/{ticket}/assignee", {"accountId": user})


def credentials(user: str, token: str) -> dict[str, str]:
    """An Atlassian account's email and API token in basic auth."""
    return basic(user, token)


VENDOR = Vendor(
    NAME,
    "jira_secret",
    verify,
    delivery,
    to_events,
    assign,
    credentials,
    partial(entity_id, NAME),
    numbered_users=False,
)
