"""A publisher that is not Python: Kafka's own console producer (run with `java`, as the stack runs
the broker) sends hand-written JSON that follows docs/events.schema.json; it lands in `raw` once
and reaches the marts."""

import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from batch import transform
from batch.settings import BatchSettings
from cxa import db, topics
from cxa.settings import StackSettings
from cxa.stack import KafkaBroker
from tests.integration.processes import one_row, start_at_the_end, wait_for, worker

pytestmark = pytest.mark.integration

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "events.schema.json").read_text())
FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER

# As an integrator would write them from the schema: one JSON document per line. The last has no
# event_id (the worker derives one from its bytes, so sending it again adds nothing).
EVENTS = """
{"event_id": "6f1c1f36-8d3e-4a52-9a57-0c1d2e3f4a01", "event_type": "ticket.created", "schema_version": 1,
 "occurred_at": "2026-11-30T09:00:00Z", "ticket_id": "{ticket}", "customer_id": "{customer}",
 "channel": "web", "priority": "high", "subject": "Invoice is wrong",
 "body": "The invoice for November charges me for two seats; we have one.", "language": "en"}
{"event_id": "6f1c1f36-8d3e-4a52-9a57-0c1d2e3f4a02", "event_type": "ticket.assigned", "schema_version": 1,
 "occurred_at": "2026-11-30T09:05:00+00:00", "ticket_id": "{ticket}", "agent_id": "{agent}",
 "policy": "manual"}
{"event_id": "6f1c1f36-8d3e-4a52-9a57-0c1d2e3f4a03", "event_type": "ticket.agent_replied",
 "schema_version": 1,
 "occurred_at": "2026-11-30T10:20:00+01:00", "ticket_id": "{ticket}", "agent_id": "{agent}",
 "is_public": true}
{"event_id": "6f1c1f36-8d3e-4a52-9a57-0c1d2e3f4a04", "event_type": "ticket.status_changed",
 "schema_version": 1,
 "occurred_at": "2026-11-30T10:00:00Z", "ticket_id": "{ticket}", "status": "solved", "agent_id": "{agent}"}
{"event_type": "ticket.csat_submitted", "schema_version": 1, "occurred_at": "2026-11-30T11:00:00Z",
 "ticket_id": "{ticket}", "rating": 5, "comment": "Quick and right."}
"""


def hand_written(run: str) -> list[dict[str, object]]:
    """The documents above, for this run's ticket (fresh event ids, so runs never collide)."""
    text = EVENTS.replace("6f1c1f36-8d3e-4a52-9a57-0c1d2e3f", str(uuid.uuid4())[:-4])
    for name, value in (("ticket", f"ext:T{run}"), ("customer", f"ext:C{run}"), ("agent", f"ext:A{run}")):
        text = text.replace("{" + name + "}", value)
    documents, current = [], ""
    for line in text.strip().splitlines():
        current += line
        if line.endswith("}"):
            documents.append(json.loads(current))
            current = ""
    return documents


def console_produce(broker: KafkaBroker, bootstrap: str, lines: list[str], log: Path) -> None:
    tools = broker.fetch_tools()
    with log.open("ab") as out:
        subprocess.run(
            [
                broker._java(),
                "-cp",
                f"{tools.resolve()}/*",
                "org.apache.kafka.tools.ConsoleProducer",
                "--bootstrap-server",
                bootstrap,
                "--topic",
                topics.TICKET_EVENTS,
                "--property",
                "parse.key=true",
                "--property",
                "key.separator=\t",
                "--producer-property",
                "acks=all",
            ],
            input="".join(f"{line}\n" for line in lines).encode("utf-8"),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
            check=True,
        )


def test_the_console_producers_events_reach_raw_and_the_marts(
    stack, stack_settings: StackSettings, database_url: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    documents = hand_written(run)
    for document in documents:
        jsonschema.validate(document, SCHEMA, format_checker=FORMATS)  # what the integrator relies on
    ticket = f"ext:T{run}"
    lines = [f"{ticket}\t{json.dumps(document)}" for document in documents]
    broker = KafkaBroker(
        home=tmp_path, cache_dir=stack_settings.cache_dir, version=stack_settings.kafka_version, port=0,
        controller_port=0,
    )  # fmt: skip
    group = f"cxa-console-{run}"
    start_at_the_end(stack.bootstrap_servers, group)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": stack.bootstrap_servers,
        "DATABASE_URL": database_url,
        "CXA_WORKER_APP_ID": group,
        "CXA_WORKER_DATA_DIR": str(tmp_path / "worker"),
        "CXA_WORKER_SESSION_TIMEOUT_SECONDS": "6",
        "CXA_WORKER_CATEGORIZER_ENABLED": "false",
    }
    landed = "SELECT count(*), count(DISTINCT event_id) FROM raw.ticket_events WHERE ticket_id = %s"
    with worker(env, tmp_path / "worker.log"):
        console_produce(broker, stack.bootstrap_servers, lines, tmp_path / "producer.log")
        wait_for(lambda: one_row(database_url, landed, ticket) == (5, 5), timeout=90, what="5 events in raw")
        # The integrator's retry sends everything again: nothing more lands.
        console_produce(broker, stack.bootstrap_servers, lines, tmp_path / "producer.log")
        marker = f"ext:T{run}-after"
        console_produce(broker, stack.bootstrap_servers, [f"{marker}\t" + json.dumps(
            {**documents[0], "event_id": str(uuid.uuid4()), "ticket_id": marker}
        )], tmp_path / "producer.log")  # fmt: skip
        wait_for(lambda: one_row(database_url, landed, marker) == (1, 1), timeout=90, what="the marker")
    assert one_row(database_url, landed, ticket) == (5, 5)

    as_of = datetime(2026, 12, 1, tzinfo=UTC)
    result = transform.build(
        database_url, BatchSettings(CXA_DBT_TARGET_DIR=tmp_path / "dbt"), f"{{as_of: '{as_of.isoformat()}'}}"
    )
    assert "ERROR=0" in result.output
    with db.connect(database_url) as conn:
        analytics = conn.execute(
            "SELECT channel, priority, status, assigned_agent_id, first_reply_minutes,"
            " first_resolution_minutes, csat_rating FROM marts.ticket_analytics WHERE ticket_id = %s",
            (ticket,),
        ).fetchone()
        customer = conn.execute(
            "SELECT segment, is_known_customer, tickets_total, csat_score::float FROM marts.customer_insights"
            " WHERE customer_id = %s",
            (f"ext:C{run}",),
        ).fetchone()
    # 10:20+01:00 is 09:20 UTC: the first reply came 20 minutes after creation, the solve at 60.
    assert analytics == ("web", "high", "solved", f"ext:A{run}", 20, 60, 5)
    assert customer == ("unknown customer", False, 2, 1.0)  # the marker ticket is theirs too
