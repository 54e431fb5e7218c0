"""The setup each helpdesk's docs give subscribes to every event its mapping reads (README.md and
docs/helpdesks.md), and each such event has a payload fixture."""

import json
import re
from pathlib import Path

import pytest

from connectors.vendors import VENDORS, chatwoot, freshdesk, jira, zendesk
from connectors.vendors.mapping import load_mappings

ROOT = Path(__file__).parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "webhooks"
MAPPINGS = load_mappings()

# How each setup names the events of the mapping: (in README.md, in docs/helpdesks.md).
NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "zendesk": {
        kind: (name, name)
        for kind, name in {
            "ticket.created": "*Ticket created*",
            "ticket.agent_assignment_changed": "*Agent assignment changed*",
            "ticket.status_changed": "*Status changed*",
            "ticket.priority_changed": "*Priority changed*",
            "ticket.comment_added": "*Comment added*",
            "ticket.tags_changed": "*Tags changed*",
            "ticket.custom_field_changed": "*Custom field changed*",
        }.items()
    },
    "freshdesk": {
        "ticket_created": ("ticket created", "`ticket_created`"),
        "ticket_assigned": ("agent updated", "`ticket_assigned`"),
        "ticket_status_changed": ("status changed", "`ticket_status_changed`"),
        "agent_replied": ("replies and notes", "`agent_replied`"),
        "note_added": ("replies and notes", "`note_added`"),
        "public_note_added": ("replies and notes", "`public_note_added`"),
        "customer_replied": ("replies and notes", "`customer_replied`"),
        "ticket_priority_changed": ("priority changed", "`ticket_priority_changed`"),
        "csat_submitted": ("customer-feedback answer", "`csat_submitted`"),
    },
    "jira": {
        "jira:issue_created": ("Issue *created*", "Issue *created*"),
        "jira:issue_updated": ("*created* and *updated*", "*created* and *updated*"),
        "comment_created": ("Comment *created*", "Comment *created*"),
    },
    "chatwoot": {
        kind: (name, name)
        for kind, name in {
            "conversation_created": "*Conversation created*",
            "conversation_status_changed": "*Conversation status changed*",
            "conversation_updated": "*Conversation updated*",
            "message_created": "*Message created*",
            "message_updated": "*Message updated*",
        }.items()
    },
}
MODULES = {"zendesk": zendesk, "freshdesk": freshdesk, "jira": jira, "chatwoot": chatwoot}


def _section(path: Path, heading: str) -> str:
    """The text under ``heading`` up to the next heading of its level, on one line."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    level = heading.split(" ", 1)[0]
    end = text.find(f"\n{level} ", start + len(heading) + 2)
    return re.sub(r"\s+", " ", text[start : end if end > 0 else None])


def _kind(vendor: str, payload: dict) -> str:
    if vendor == "zendesk":
        return str(payload.get("type", "")).removeprefix("zen:event-type:")
    return str(payload.get("webhookEvent") if vendor == "jira" else payload.get("event"))


@pytest.mark.parametrize("vendor", sorted(MODULES))
def test_the_setup_subscribes_to_every_event_the_mapping_reads(vendor: str) -> None:
    events = MODULES[vendor].EVENTS
    assert set(NAMES[vendor]) == set(events), "name each event the mapping reads in both setups"
    heading = {"jira": "Jira Service Management"}.get(vendor, vendor.capitalize())
    readme = _section(ROOT / "README.md", f"### {heading}")
    guide = _section(ROOT / "docs" / "helpdesks.md", f"## {heading}")
    for kind, (in_readme, in_guide) in NAMES[vendor].items():
        assert in_readme in readme, f"README.md's {heading} setup does not subscribe to {kind}"
        assert in_guide in guide, f"docs/helpdesks.md's {heading} setup does not subscribe to {kind}"


@pytest.mark.parametrize("vendor", sorted(MODULES))
def test_every_event_the_mapping_reads_has_a_fixture(vendor: str) -> None:
    seen: set[str] = set()
    for path in sorted((FIXTURES / vendor).glob("*.json")):
        payload = json.loads(path.read_text(encoding="utf-8"))
        kind = _kind(vendor, payload)
        if kind in MODULES[vendor].EVENTS:
            VENDORS[vendor].events(payload, MAPPINGS[vendor], f"delivery-{path.stem}")
            seen.add(kind)
    assert seen == set(MODULES[vendor].EVENTS)


@pytest.mark.parametrize("vendor", sorted(MODULES))
def test_each_fixtures_source_says_where_it_comes_from(vendor: str) -> None:
    sources = (FIXTURES / vendor / "SOURCE.md").read_text(encoding="utf-8")
    unnamed = [
        path.name for path in sorted((FIXTURES / vendor).glob("*.json")) if f"`{path.name}`" not in sources
    ]
    assert unnamed == [], f"tests/fixtures/webhooks/{vendor}/SOURCE.md does not say where these come from"
