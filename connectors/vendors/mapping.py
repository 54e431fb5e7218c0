"""How one helpdesk's values become the contract's: statuses, priorities, channels, categories,
satisfaction ratings.

Every vendor has defaults (``defaults.toml`` beside this module). A deployment overrides any of
them in its own TOML file (``CXA_INGEST_MAPPING_FILE``), one table per vendor, for example::

    [zendesk.statuses]
    awaiting_parts = "on_hold"      # a custom status

    [jira]
    category_field = "customfield_10010"
"""

import tomllib
import uuid
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cxa.events import (
    Channel,
    EventBase,
    Priority,
    TicketCategoryConfirmed,
    TicketCategoryCorrected,
    TicketEventBase,
    TicketStatus,
)

NAMESPACE: Final = uuid.UUID("9b1f3c2e-5d4a-4e8b-9c61-2f0d7a1e3b55")
"""Namespace of the event ids made from vendors' delivery ids (UUIDv5): a retry gets the same id."""

BODY_LIMIT: Final = 100_000
SUBJECT_LIMIT: Final = 1_000
CATEGORY_LIMIT: Final = 100


class Unmappable(ValueError):
    """A payload that cannot become contract events; the message says what and how to fix it."""


class VendorMapping(BaseModel):
    """One vendor's value maps. Keys are the vendor's values, compared case-insensitively."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    statuses: dict[str, TicketStatus] = Field(default_factory=dict)
    priorities: dict[str, Priority] = Field(default_factory=dict)
    channels: dict[str, Channel] = Field(default_factory=dict)
    default_priority: Priority = Priority.NORMAL
    default_channel: Channel = Channel.WEB
    default_language: str = Field(default="en", pattern=r"^[a-z]{2}$")
    category_tag_prefix: str | None = Field(
        default="category_", description="A tag 'category_refund' sets the category 'refund'"
    )
    category_field: str | None = Field(default=None, description="A custom field holding the category")
    time_zone: str = Field(default="UTC", description="Of times sent without an offset (Freshdesk's)")
    ratings: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(
        default_factory=dict, description="Satisfaction answers (words) as the contract's 1-5 rating"
    )

    def status(self, vendor: str, value: str) -> TicketStatus:
        return _look_up(self.statuses, value, f"[{vendor}.statuses]", "status")

    def priority(self, vendor: str, value: str | None) -> Priority:
        if value is None or value == "":
            return self.default_priority
        return _look_up(self.priorities, value, f"[{vendor}.priorities]", "priority")

    def rating(self, vendor: str, value: object) -> int:
        """A satisfaction answer through ``[vendor.ratings]``, else a whole number 1 to 5 as it is."""
        text = value.strip() if isinstance(value, str) else value
        found = _find(self.ratings, str(text))
        if found is not None:
            return found
        number = text if isinstance(text, int | float) and not isinstance(text, bool) else _number(text)
        if number is not None and number in {1, 2, 3, 4, 5}:
            return int(number)
        raise Unmappable(
            f"satisfaction rating {value!r} is neither 1 to 5 nor in the mapping: "
            f"add it under [{vendor}.ratings] in CXA_INGEST_MAPPING_FILE"
        )

    def channel(self, value: str | None) -> Channel:
        """Channels are informative: an unknown one is the default, never a refusal."""
        if not value:
            return self.default_channel
        return {k.lower(): v for k, v in self.channels.items()}.get(value.lower(), self.default_channel)

    def category_from_tags(self, tags: list[str]) -> str | None:
        prefix = self.category_tag_prefix
        if not prefix:
            return None
        return next((tag[len(prefix) :] for tag in tags if tag.startswith(prefix) and tag != prefix), None)


def _number(value: object) -> float | None:
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _find(table: dict[str, Any], value: str) -> Any:
    """``value``'s entry in ``table``, its keys compared case-insensitively (None without one)."""
    return {k.lower(): v for k, v in table.items()}.get(value.lower())


def _look_up(table: dict[str, Any], value: str, section: str, what: str) -> Any:
    found = _find(table, str(value))
    if found is None:
        raise Unmappable(
            f"{what} {value!r} is not in the mapping: add it under {section} in CXA_INGEST_MAPPING_FILE"
        )
    return found


_TABLES = frozenset(
    name for name, field in VendorMapping.model_fields.items() if get_origin(field.annotation) is dict
)
"""The mapping's tables (statuses, priorities, channels, ratings): a file adds to them key by key."""


def load_mappings(path: Path | None = None) -> dict[str, VendorMapping]:
    """The shipped defaults, with a deployment's file (if any) laid over them: a table such as
    ``[zendesk.statuses]`` adds to (or changes keys of) the default table, a single value such as
    ``[jira] category_field`` replaces the default. A wrong file raises ValueError naming the file,
    where in it, and the fix."""
    merged: dict[str, dict[str, Any]] = tomllib.loads(
        resources.files(__package__).joinpath("defaults.toml").read_text(encoding="utf-8")
    )
    if path is not None:
        try:
            overrides = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"cannot read the mapping file {path}: {exc}") from exc
        for vendor, table in overrides.items():
            _lay_over(path, vendor, merged, table)
    mappings = {}
    for vendor, table in merged.items():
        try:
            mappings[vendor] = VendorMapping.model_validate(table)
        except ValidationError as exc:
            where = "; ".join(
                f"{vendor}.{'.'.join(map(str, item['loc']))}: {item['msg']}"
                for item in exc.errors(include_url=False)
            )
            raise ValueError(f"{path or 'defaults.toml'}: {where}") from None
    return mappings


def _lay_over(path: Path, vendor: str, merged: dict[str, dict[str, Any]], table: object) -> None:
    """One vendor's table of the file over the defaults (``merged``), checked key by key."""
    if vendor not in merged:
        raise ValueError(
            f"{path}: unknown vendor [{vendor}]: a table's name starts with one of "
            f"{', '.join(sorted(merged))}"
        )
    if not isinstance(table, dict):
        raise ValueError(f"{path}: [{vendor}] is a table (a [{vendor}] heading), not {table!r}")
    for key, value in table.items():
        if key not in VendorMapping.model_fields:
            raise ValueError(
                f"{path}: unknown key [{vendor}] {key}: the keys are {', '.join(VendorMapping.model_fields)}"
            )
        if key in _TABLES:
            if not isinstance(value, dict):
                raise ValueError(
                    f"{path}: [{vendor}] {key} is a table of the helpdesk's values (a [{vendor}.{key}] "
                    f'heading over lines such as "value" = ...), not {value!r}'
                )
            merged[vendor][key] = {**merged[vendor].get(key, {}), **value}
        else:
            merged[vendor][key] = value


def event_id(vendor: str, delivery: str, index: int) -> str:
    """The deterministic id of the ``index``-th event made from one delivery of one vendor."""
    return str(uuid.uuid5(NAMESPACE, f"{vendor}\n{delivery}\n{index}"))


def entity_id(vendor: str, value: object) -> str:
    """A vendor's ticket, user or contact id, namespaced so that two helpdesks never collide."""
    text = str(value).strip()
    if not text:
        raise Unmappable(f"an empty {vendor} id")
    return f"{vendor}:{text}"


def cut(text: str | None, limit: int) -> str:
    """Free text within the contract's limit (a long ticket still flows, cut, rather than refused)."""
    return (text or "").replace("\x00", "")[:limit]


def epoch_ms(value: int | float) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def epoch_s(value: int | float) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def iso(value: str) -> datetime:
    """An ISO-8601 time with an offset (Jira writes ``+0000``, which Python 3.11 reads too)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise Unmappable(f"the time {value!r} has no UTC offset")
    return moment.astimezone(UTC)


class Made:
    """The events made from one delivery of one ticket, numbered for their deterministic ids."""

    def __init__(self, vendor: str, delivery: str, ticket_id: str) -> None:
        self.vendor, self.delivery, self.ticket_id = vendor, delivery, ticket_id
        self.events: list[EventBase] = []

    def add(self, event_type: type[TicketEventBase], **values: Any) -> None:
        number = len(self.events)
        self.events.append(
            event_type(
                event_id=event_id(self.vendor, self.delivery, number), ticket_id=self.ticket_id, **values
            )
        )

    def category(self, at: datetime, agent_id: str, category: str, previous: str | None) -> None:
        """An agent set the category: the label the categorizer learns from."""
        category, previous = cut(category, CATEGORY_LIMIT), cut(previous, CATEGORY_LIMIT) or None
        if previous and previous != category:
            self.add(
                TicketCategoryCorrected,
                occurred_at=at,
                agent_id=agent_id,
                category=category,
                previous_category=previous,
            )
        elif category:
            self.add(TicketCategoryConfirmed, occurred_at=at, agent_id=agent_id, category=category)
