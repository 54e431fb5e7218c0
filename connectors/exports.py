"""Reference data from a helpdesk's CSV exports: agents and customers, checked row by row.

Each field is read from the column of the same name unless ``--map FIELD=COLUMN`` names another
(headers match case-insensitively). Only the id is required; what an export does not carry is None,
stored as NULL, except an agent's languages (``en``) and capacity (the ``--capacity`` default).

Values: ``skills`` as ``billing:0.9; refunds`` (a skill without a level is 1.0, levels 0 to 1,
separated by ``;``, ``,`` or ``|``), ``languages`` as ``en; fr`` (locales such as ``pt-BR`` count as
their language), ``work_days`` as ``1-5``, ``Mon-Fri`` or ``mon;wed;fri``, times as ISO 8601 (a date
alone is midnight UTC), ``shift_start`` as ``09:00`` UTC.
"""

import csv
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Final, TypeVar, overload

from cxa.events import AgentCapacityChanged, AgentEventBase, AgentSkillsChanged

AGENT_FIELDS: Final = (
    "agent_id", "name", "team", "skills", "languages", "capacity",
    "shift_start", "shift_hours", "work_days", "hired_at",
)  # fmt: skip
CUSTOMER_FIELDS: Final = (
    "customer_id", "segment", "plan", "region", "language", "signup_at", "lifetime_value",
)  # fmt: skip
MAX_PROBLEMS: Final = 20

_SEPARATORS = re.compile(r"[;,|]")
_WEEKDAYS = {name: number for number, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), 1)}
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
T = TypeVar("T")


class ExportError(ValueError):
    """The file cannot be imported; ``problems`` says where and why (line numbers as in the file)."""

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = "\n  ".join(self.problems[:MAX_PROBLEMS])
        more = len(self.problems) - MAX_PROBLEMS
        super().__init__(
            f"{path}: nothing imported\n  {shown}" + (f"\n  ... and {more} more" if more > 0 else "")
        )


@dataclass(frozen=True)
class ImportedCustomer:
    customer_id: str
    segment: str | None
    plan: str | None
    region: str | None
    language: str | None
    signup_at: datetime | None
    lifetime_value: float | None


@dataclass(frozen=True)
class ImportedAgent:
    agent_id: str
    name: str
    team: str | None
    skills: dict[str, float]
    languages: tuple[str, ...]
    capacity: int
    shift_start: time | None
    shift_hours: float | None
    work_days: tuple[int, ...] | None
    hired_at: datetime | None


def parse_map(pairs: Sequence[str]) -> dict[str, str]:
    """``FIELD=COLUMN`` pairs, every field one of the agents' or customers'."""
    known = set(AGENT_FIELDS) | set(CUSTOMER_FIELDS)
    columns: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        field, column = field.strip(), column.strip()
        if not sep or not column:
            raise ValueError(f"--map {pair!r}: write FIELD=COLUMN, for example agent_id=id")
        if field not in known:
            raise ValueError(f"--map {pair!r}: unknown field {field!r}; known: {', '.join(sorted(known))}")
        columns[field] = column
    return columns


def read_agents(
    path: Path, columns: Mapping[str, str], person: Callable[[str], str], capacity: int
) -> list[ImportedAgent]:
    """The agents in ``path``; ``person`` turns the export's id into the contract's agent id."""
    agents: list[ImportedAgent] = []
    problems: list[str] = []
    for line, value in _rows(path, AGENT_FIELDS, columns):
        found: list[str] = []
        raw_id = value("agent_id")
        agent = ImportedAgent(
            agent_id=_id(raw_id, person, found),
            name=value("name") or raw_id or "",
            team=value("team"),
            skills=_convert(_skills, value("skills"), "skills", found, default={}),
            languages=_convert(_languages, value("languages"), "languages", found, default=("en",)),
            capacity=_convert(_capacity, value("capacity"), "capacity", found, default=capacity),
            shift_start=_convert(time.fromisoformat, value("shift_start"), "shift_start", found),
            shift_hours=_convert(_hours, value("shift_hours"), "shift_hours", found),
            work_days=_convert(_work_days, value("work_days"), "work_days", found),
            hired_at=_convert(_moment, value("hired_at"), "hired_at", found),
        )
        problems += [f"line {line}: {problem}" for problem in found]
        agents += [] if found else [agent]
    _check(path, problems, [agent.agent_id for agent in agents], "agent_id")
    return agents


def read_customers(
    path: Path, columns: Mapping[str, str], person: Callable[[str], str]
) -> list[ImportedCustomer]:
    """The customers in ``path``; ``person`` turns the export's id into the contract's customer id."""
    customers: list[ImportedCustomer] = []
    problems: list[str] = []
    for line, value in _rows(path, CUSTOMER_FIELDS, columns):
        found: list[str] = []
        customer = ImportedCustomer(
            customer_id=_id(value("customer_id"), person, found),
            segment=value("segment"),
            plan=value("plan"),
            region=value("region"),
            language=_convert(_language, value("language"), "language", found),
            signup_at=_convert(_moment, value("signup_at"), "signup_at", found),
            lifetime_value=_convert(_amount, value("lifetime_value"), "lifetime_value", found),
        )
        problems += [f"line {line}: {problem}" for problem in found]
        customers += [] if found else [customer]
    _check(path, problems, [customer.customer_id for customer in customers], "customer_id")
    return customers


def announcements(agents: Sequence[ImportedAgent], at: datetime) -> list[AgentEventBase]:
    """What the router must know of each agent, as ``agents.events``: skills and languages, capacity.

    Announcing an unchanged agent again is harmless: the floor sets the same values."""
    return [
        event
        for agent in agents
        for event in (
            AgentSkillsChanged(
                occurred_at=at, agent_id=agent.agent_id, skills=agent.skills, languages=list(agent.languages)
            ),
            AgentCapacityChanged(occurred_at=at, agent_id=agent.agent_id, capacity=agent.capacity),
        )
    ]


# -- reading ---------------------------------------------------------------------------------


def _rows(
    path: Path, fields: Sequence[str], columns: Mapping[str, str]
) -> Iterator[tuple[int, Callable[[str], str | None]]]:
    """Each non-blank data row as (its line, the value of a field, None when empty or absent)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            sample = handle.read(8192)
            handle.seek(0)
            try:
                dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(handle, dialect)
            header = next(reader, None)
            if header is None:
                raise ExportError(path, ["the file is empty (a header row is needed)"])
            index = _columns(path, header, fields, columns)
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield reader.line_num, partial(_cell, index, row)
    except UnicodeDecodeError as exc:
        raise ExportError(path, [f"not UTF-8 text ({exc}); save the export as UTF-8 CSV"]) from None
    except csv.Error as exc:
        raise ExportError(path, [f"not a readable CSV file ({exc})"]) from None
    except OSError as exc:
        raise ExportError(path, [f"cannot read it ({exc.strerror})"]) from None


def _cell(index: Mapping[str, int], row: Sequence[str], field: str) -> str | None:
    at = index.get(field)
    return (row[at].strip() or None) if at is not None and at < len(row) else None


def _columns(
    path: Path, header: list[str], fields: Sequence[str], columns: Mapping[str, str]
) -> dict[str, int]:
    positions = {name.strip().casefold(): at for at, name in enumerate(header)}
    index: dict[str, int] = {}
    for field in fields:
        wanted = columns.get(field, field)
        if (at := positions.get(wanted.casefold())) is not None:
            index[field] = at
        elif field in columns:
            raise ExportError(
                path, [f"--map {field}={wanted}: no column {wanted!r}; the columns are {header}"]
            )
    if fields[0] not in index:
        raise ExportError(
            path,
            [f"no {fields[0]!r} column; name it with --map {fields[0]}=COLUMN (columns: {header})"],
        )
    return index


def _check(path: Path, problems: list[str], ids: Sequence[str], field: str) -> None:
    problems += [f"{field} {i!r} appears {n} times" for i, n in sorted(Counter(ids).items()) if n > 1]
    if problems:
        raise ExportError(path, problems)


@overload
def _convert(parse: Callable[[str], T], text: str | None, field: str, problems: list[str]) -> T | None: ...
@overload
def _convert(
    parse: Callable[[str], T], text: str | None, field: str, problems: list[str], default: T
) -> T: ...
def _convert(
    parse: Callable[[str], T], text: str | None, field: str, problems: list[str], default: T | None = None
) -> T | None:
    """``parse(text)``; ``default`` when the cell is empty; a problem noted when it cannot be read."""
    if text is None:
        return default
    try:
        return parse(text)
    except ValueError as exc:
        problems.append(f"{field} {text!r}: {exc}")
        return default


def _id(text: str | None, person: Callable[[str], str], problems: list[str]) -> str:
    if text is None:
        problems.append("the id is empty")
        return ""
    made = person(text)
    if len(made) > 64 or _ID_UNSAFE.search(made):
        problems.append(f"id {made!r} is not a contract id (1-64 of A-Z a-z 0-9 _ . : -)")
    return made


def _skills(text: str) -> dict[str, float]:
    skills: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in _SEPARATORS.split(text))):
        name, _, level = item.rpartition(":") if ":" in item else (item, "", "1")
        proficiency = float(level)
        if not 0 <= proficiency <= 1 or not name.strip() or len(name.strip()) > 100:
            raise ValueError(f"{item!r} is not CATEGORY or CATEGORY:LEVEL with a level from 0 to 1")
        skills[name.strip()] = proficiency
    return skills


def _languages(text: str) -> tuple[str, ...]:
    found: list[str] = []
    for item in filter(None, (part.strip() for part in _SEPARATORS.split(text))):
        code = re.split(r"[-_]", item, maxsplit=1)[0].lower()
        if not re.fullmatch(r"[a-z]{2}", code):
            raise ValueError(f"{item!r} is not an ISO 639-1 language code (en, fr, pt-BR ...)")
        if code not in found:
            found.append(code)
    if not found:
        raise ValueError("no language")
    return tuple(found)


def _language(text: str) -> str:
    return _languages(text)[0]


def _amount(text: str) -> float:
    amount = float(text)
    if not math.isfinite(amount):
        raise ValueError("not a finite amount")
    return amount


def _capacity(text: str) -> int:
    number = int(text)
    if not 0 <= number <= 100:
        raise ValueError("capacity is 0 to 100 tickets at once")
    return number


def _hours(text: str) -> float:
    hours = float(text)
    if not 0 < hours <= 24:
        raise ValueError("a shift lasts more than 0 and at most 24 hours")
    return hours


def _work_days(text: str) -> tuple[int, ...]:
    days: set[int] = set()
    for item in filter(None, (part.strip().lower() for part in _SEPARATORS.split(text))):
        first, _, last = item.partition("-")
        start, end = _weekday(first), _weekday(last or first)
        if end < start:
            raise ValueError(f"{item!r} runs backwards")
        days.update(range(start, end + 1))
    if not days:
        raise ValueError("no day")
    return tuple(sorted(days))


def _weekday(text: str) -> int:
    text = text.strip()
    if text.isdigit() and 1 <= int(text) <= 7:
        return int(text)
    if text[:3] in _WEEKDAYS:
        return _WEEKDAYS[text[:3]]
    raise ValueError(f"{text!r} is not a weekday (1-7 with 1 = Monday, or Mon ... Sun)")


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
