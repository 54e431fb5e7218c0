"""Load a synthetic history into ``raw`` (the loader side of raw: tests, demos and benchmarks)."""

import json
from dataclasses import asdict

from batch.synthetic import History
from cxa import db

TICKET_COPY = (
    "COPY raw.ticket_events (event_id, event_type, schema_version, ticket_id, occurred_at, payload)"
    " FROM STDIN"
)
AGENT_COPY = (
    "COPY raw.agent_events (event_id, event_type, schema_version, agent_id, occurred_at, payload) FROM STDIN"
)
PREDICTION_COPY = (
    "COPY raw.ticket_categorizations (event_id, ticket_id, category, confidence, top, model_version,"
    " latency_ms, predicted_at) FROM STDIN"
)


def load_history(url: str, history: History) -> None:
    """Insert customers, agents, events and predictions (reference rows are kept, the rest appended)."""
    with db.connect(url) as conn, conn.cursor() as cursor:
        for customer in history.customers:
            cursor.execute(
                "INSERT INTO raw.customers (customer_id, segment, plan, region, language, signup_at,"
                " lifetime_value) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (customer_id) DO NOTHING",
                (
                    customer.customer_id,
                    customer.segment,
                    customer.plan,
                    customer.region,
                    customer.language,
                    customer.signup_at,
                    customer.lifetime_value,
                ),
            )
        for agent in history.agents:
            row = asdict(agent)
            cursor.execute(
                "INSERT INTO raw.agents (agent_id, name, team, skills, languages, capacity, shift_start,"
                " shift_hours, work_days, hired_at) VALUES (%s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (agent_id) DO NOTHING",
                (
                    row["agent_id"],
                    row["name"],
                    row["team"],
                    json.dumps(row["skills"]),
                    row["languages"],
                    row["capacity"],
                    row["shift_start"],
                    row["shift_hours"],
                    row["work_days"],
                    row["hired_at"],
                ),
            )
        with cursor.copy(TICKET_COPY) as copy:
            for event in history.ticket_events:
                copy.write_row(
                    (
                        event.event_id,
                        event.event_type,
                        event.schema_version,
                        event.ticket_id,
                        event.occurred_at,
                        event.model_dump_json(),
                    )
                )
        with cursor.copy(AGENT_COPY) as copy:
            for event in history.agent_events:
                copy.write_row(
                    (
                        event.event_id,
                        event.event_type,
                        event.schema_version,
                        event.agent_id,
                        event.occurred_at,
                        event.model_dump_json(),
                    )
                )
        with cursor.copy(PREDICTION_COPY) as copy:
            for prediction in history.predictions:
                copy.write_row(
                    (
                        prediction.event_id,
                        prediction.ticket_id,
                        prediction.category,
                        prediction.confidence,
                        json.dumps(prediction.top),
                        prediction.model_version,
                        prediction.latency_ms,
                        prediction.occurred_at,
                    )
                )
