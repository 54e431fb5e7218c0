"""Reference data in ``raw``: customers and the support-agent roster, upserted idempotently.

Written by the simulator's seed and by ``cxa reference import`` (helpdesk exports); attributes an
export does not carry are None and stored as NULL.
"""

import json
from collections.abc import Sequence
from datetime import datetime, time
from typing import Protocol

from cxa.db import connect


class CustomerRow(Protocol):
    @property
    def customer_id(self) -> str: ...
    @property
    def segment(self) -> str | None: ...
    @property
    def plan(self) -> str | None: ...
    @property
    def region(self) -> str | None: ...
    @property
    def language(self) -> str | None: ...
    @property
    def signup_at(self) -> datetime | None: ...
    @property
    def lifetime_value(self) -> float | None: ...


class AgentRow(Protocol):
    @property
    def agent_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def skills(self) -> dict[str, float]: ...
    @property
    def languages(self) -> Sequence[str]: ...
    @property
    def capacity(self) -> int: ...
    @property
    def shift_start(self) -> time | None: ...
    @property
    def shift_hours(self) -> float | None: ...
    @property
    def work_days(self) -> Sequence[int] | None: ...
    @property
    def hired_at(self) -> datetime | None: ...


# Unknown (NULL) in a new export keeps what an earlier one said: exports differ in their columns.
_UPSERT_CUSTOMERS = """
INSERT INTO raw.customers (customer_id, segment, plan, region, language, signup_at, lifetime_value)
SELECT customer_id, segment, plan, region, language, signup_at, lifetime_value FROM incoming
ON CONFLICT (customer_id) DO UPDATE SET
    segment = coalesce(EXCLUDED.segment, customers.segment),
    plan = coalesce(EXCLUDED.plan, customers.plan),
    region = coalesce(EXCLUDED.region, customers.region),
    language = coalesce(EXCLUDED.language, customers.language),
    signup_at = coalesce(EXCLUDED.signup_at, customers.signup_at),
    lifetime_value = coalesce(EXCLUDED.lifetime_value, customers.lifetime_value), loaded_at = now()
"""
_UPSERT_AGENTS = """
INSERT INTO raw.agents (agent_id, name, team, skills, languages, capacity, shift_start, shift_hours,
                        work_days, hired_at)
SELECT agent_id, name, team, skills::jsonb, languages::text[], capacity, shift_start, shift_hours,
       work_days::smallint[], hired_at FROM incoming
ON CONFLICT (agent_id) DO UPDATE SET
    name = EXCLUDED.name, team = coalesce(EXCLUDED.team, agents.team), skills = EXCLUDED.skills,
    languages = EXCLUDED.languages, capacity = EXCLUDED.capacity,
    shift_start = coalesce(EXCLUDED.shift_start, agents.shift_start),
    shift_hours = coalesce(EXCLUDED.shift_hours, agents.shift_hours),
    work_days = coalesce(EXCLUDED.work_days, agents.work_days),
    hired_at = coalesce(EXCLUDED.hired_at, agents.hired_at), loaded_at = now()
"""


def _array(values: Sequence[object] | None) -> str | None:
    return None if values is None else "{" + ",".join(map(str, values)) + "}"


def load_reference(database_url: str, customers: Sequence[CustomerRow], agents: Sequence[AgentRow]) -> None:
    """Upsert customers and agents in one transaction (COPY into a temporary table, then one
    INSERT ... ON CONFLICT each): a load is all or nothing, and loading it again changes nothing."""
    with connect(database_url) as conn, conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE incoming (customer_id text, segment text, plan text, region text,"
            " language text, signup_at timestamptz, lifetime_value numeric) ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY incoming FROM STDIN") as copy:
            for c in customers:
                copy.write_row(
                    (c.customer_id, c.segment, c.plan, c.region, c.language, c.signup_at, c.lifetime_value)
                )
        conn.execute(_UPSERT_CUSTOMERS)
        conn.execute("DROP TABLE incoming")
        conn.execute(
            "CREATE TEMP TABLE incoming (agent_id text, name text, team text, skills text,"
            " languages text, capacity int, shift_start time, shift_hours numeric,"
            " work_days text, hired_at timestamptz) ON COMMIT DROP"
        )
        with conn.cursor().copy("COPY incoming FROM STDIN") as copy:
            for a in agents:
                copy.write_row(
                    (
                        a.agent_id,
                        a.name,
                        a.team,
                        json.dumps(a.skills),
                        _array(a.languages),
                        a.capacity,
                        a.shift_start,
                        a.shift_hours,
                        _array(a.work_days),
                        a.hired_at,
                    )
                )
        conn.execute(_UPSERT_AGENTS)
