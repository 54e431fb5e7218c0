"""Reading agents and customers from helpdesk CSV exports: columns, values, defaults and problems."""

from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from connectors.exports import (
    ExportError,
    announcements,
    parse_map,
    read_agents,
    read_customers,
)
from connectors.vendors import VENDORS
from cxa.events import AgentCapacityChanged, AgentSkillsChanged

# As Zendesk's user export names them (id, name, locale, ...), with two columns an admin added.
ZENDESK_AGENTS = """\ufeffid,name,email,group,locale,skills,max_tickets,shift,days
900001,Ana Costa,ana@example.com,Billing,en-US,billing:0.9; refunds,5,08:00,Mon-Fri
900002,Ben Berg,ben@example.com,Tech,de;en,technical|account:0.4,,,
"""
ZENDESK_MAP = [
    "agent_id=id",
    "team=group",
    "languages=locale",
    "capacity=max_tickets",
    "shift_start=shift",
    "work_days=days",
]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_zendesk_agent_export_reads_with_a_map_and_the_vendors_ids(tmp_path: Path) -> None:
    path = write(tmp_path, "agents.csv", ZENDESK_AGENTS)
    ana, ben = read_agents(path, parse_map(ZENDESK_MAP), VENDORS["zendesk"].person, capacity=3)
    assert ana.agent_id == "zendesk:900001"  # as the Zendesk webhooks name the assignee
    assert (ana.name, ana.team, ana.languages, ana.capacity) == ("Ana Costa", "Billing", ("en",), 5)
    assert ana.skills == {"billing": 0.9, "refunds": 1.0}
    assert (ana.shift_start, ana.work_days) == (time(8, 0), (1, 2, 3, 4, 5))
    assert (ana.shift_hours, ana.hired_at) == (None, None)  # not in the export: unknown, not made up
    assert ben.skills == {"technical": 1.0, "account": 0.4}
    assert (ben.languages, ben.capacity, ben.shift_start, ben.work_days) == (("de", "en"), 3, None, None)


def test_freshdesk_people_are_their_email_as_its_webhooks_carry_them(tmp_path: Path) -> None:
    path = write(tmp_path, "contacts.csv", "Email,Company\nJo.Doe@Example.com,Acme\n")
    (jo,) = read_customers(
        path, parse_map(["customer_id=email", "segment=company"]), VENDORS["freshdesk"].person
    )
    assert jo.customer_id == "freshdesk:jo.doe:example.com"
    assert (jo.segment, jo.plan, jo.language, jo.signup_at, jo.lifetime_value) == (
        "Acme",
        None,
        None,
        None,
        None,
    )


def test_customers_read_every_field_and_a_semicolon_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "customers.csv",
        "customer_id;segment;plan;region;language;signup_at;lifetime_value\n"
        "C1;smb;premium;EU;fr-CA;2025-03-01;1200.50\n"
        "C2;;;;;2025-03-02T10:00:00+02:00;\n",
    )
    first, second = read_customers(path, {}, str)
    assert first == read_customers(path, {}, str)[0]
    assert (first.segment, first.plan, first.region, first.language) == ("smb", "premium", "EU", "fr")
    assert (first.signup_at, first.lifetime_value) == (datetime(2025, 3, 1, tzinfo=UTC), 1200.5)
    assert (second.segment, second.signup_at) == (None, datetime(2025, 3, 2, 8, tzinfo=UTC))


def test_every_bad_row_is_named_by_line_and_nothing_is_imported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "agents.csv",
        "agent_id,skills,languages,capacity,shift_hours,work_days\n"
        "A1,billing:1.5,en,4,8,1-5\n"
        "A2,billing,english,4,8,1-5\n"
        "\n"
        "A3,billing,en,-1,30,Fri-Mon\n"
        "A4 with space,billing,en,4,8,1-5\n"
        "A5,billing,en,4,8,1-5\n"
        "A5,billing,en,4,8,1-5\n"
        ",billing,en,4,8,1-5\n",
    )
    with pytest.raises(ExportError) as refused:
        read_agents(path, {}, str, capacity=4)
    problems = refused.value.problems
    assert problems == [
        "line 2: skills 'billing:1.5': 'billing:1.5' is not CATEGORY or CATEGORY:LEVEL"
        " with a level from 0 to 1",
        "line 3: languages 'english': 'english' is not an ISO 639-1 language code (en, fr, pt-BR ...)",
        "line 5: capacity '-1': capacity is 0 to 100 tickets at once",
        "line 5: shift_hours '30': a shift lasts more than 0 and at most 24 hours",
        "line 5: work_days 'Fri-Mon': 'fri-mon' runs backwards",
        "line 6: id 'A4 with space' is not a contract id (1-64 of A-Z a-z 0-9 _ . : -)",
        "line 9: the id is empty",
        "agent_id 'A5' appears 2 times",
    ]
    assert "nothing imported" in str(refused.value)


def test_a_zero_capacity_is_kept_and_not_taken_for_absent(tmp_path: Path) -> None:
    path = write(tmp_path, "agents.csv", "agent_id,capacity\nA1,0\nA2,\n")
    assert [a.capacity for a in read_agents(path, {}, str, capacity=4)] == [0, 4]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "the file is empty"),
        ("name,email\nAna,a@x\n", "no 'agent_id' column; name it with --map agent_id=COLUMN"),
    ],
)
def test_a_file_without_what_is_needed_says_how_to_fix_it(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(ExportError, match=problem):
        read_agents(write(tmp_path, "agents.csv", text), {}, str, capacity=4)


def test_a_map_to_a_missing_column_or_field_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "agents.csv", "id\nA1\n")
    with pytest.raises(ExportError, match=r"--map team=Group: no column 'Group'"):
        read_agents(path, parse_map(["agent_id=id", "team=Group"]), str, capacity=4)
    with pytest.raises(ValueError, match="unknown field 'squad'"):
        parse_map(["squad=Group"])
    with pytest.raises(ValueError, match="write FIELD=COLUMN"):
        parse_map(["team"])


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "agents.csv"
    path.write_bytes("agent_id,name\nA1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(ExportError, match="save the export as UTF-8 CSV"):
        read_agents(path, {}, str, capacity=4)


def test_every_agent_is_announced_with_skills_languages_and_capacity(tmp_path: Path) -> None:
    path = write(tmp_path, "agents.csv", ZENDESK_AGENTS)
    agents = read_agents(path, parse_map(ZENDESK_MAP), VENDORS["zendesk"].person, capacity=3)
    at = datetime(2026, 12, 2, 9, tzinfo=UTC)
    made = announcements(agents, at)
    assert [(type(e), e.agent_id) for e in made] == [
        (AgentSkillsChanged, "zendesk:900001"),
        (AgentCapacityChanged, "zendesk:900001"),
        (AgentSkillsChanged, "zendesk:900002"),
        (AgentCapacityChanged, "zendesk:900002"),
    ]
    skills = made[2]
    assert isinstance(skills, AgentSkillsChanged)
    assert (skills.skills, skills.languages, skills.occurred_at) == (
        {"technical": 1.0, "account": 0.4},
        ["de", "en"],
        at,
    )
    assert len({e.event_id for e in made}) == 4
