"""`cxa ingest serve`: the webhook gateway."""

import asyncio
import gc
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import typer
import uvicorn
from pydantic import ValidationError

from connectors.exports import ExportError, announcements, parse_map, read_agents, read_customers
from connectors.gateway import create_app
from connectors.publishing import KafkaPublisher, record_of
from connectors.settings import GatewaySettings, WritebackSettings
from connectors.vendors import VENDORS
from connectors.vendors.mapping import load_mappings
from connectors.writeback import Tally, WritebackStopped, run
from cxa import db
from cxa.events import EventBase
from cxa.reference import load_reference
from cxa.settings import DatabaseSettings, KafkaSettings

log = logging.getLogger(__name__)

connector_app = typer.Typer(
    help="Connectors that write the platform's decisions back to the helpdesk. "
    "Settings: CXA_WRITEBACK_* (see .env.example).",
    no_args_is_help=True,
)
ingest_app = typer.Typer(
    help="The ingest gateway: helpdesk webhooks (Zendesk, Freshdesk, Jira Service Management, "
    "Chatwoot) and POST /events, into Kafka. Settings: CXA_INGEST_* (see .env.example).",
    no_args_is_help=True,
)

reference_app = typer.Typer(
    help="Reference data (agents, customers) from a helpdesk's CSV exports.", no_args_is_help=True
)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@ingest_app.command("serve")
def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on (default: CXA_INGEST_HOST or 127.0.0.1)."
    ),
    port: int | None = typer.Option(None, help="Port (default: CXA_INGEST_PORT or 8060)."),
) -> None:
    """Serve POST /webhooks/{zendesk,freshdesk,jira,chatwoot}, POST /events, GET /healthz, /readyz.

    A request is answered 202 once Kafka has its events; 401 without a valid signature or token,
    400 (and a dead letter) for what cannot be mapped, 413 over the size limit, 429 over the rate."""
    try:
        settings = GatewaySettings()
        mappings = load_mappings(settings.mapping_file)
    except (ValidationError, ValueError) as exc:
        raise _fail(f"the gateway's settings are wrong: {exc}") from None
    enabled = [
        f"{name} ({len(secrets)} secrets)" if len(secrets) > 1 else name
        for name, vendor in VENDORS.items()
        if (secrets := settings.secrets(vendor.secret_setting))
    ]
    log.info(
        "webhooks on for: %s; POST /events %s",
        ", ".join(enabled) or "none (set CXA_INGEST_<VENDOR>_SECRET or _TOKEN)",
        "on" if settings.events_token else "off (set CXA_INGEST_EVENTS_TOKEN)",
    )
    app = create_app(
        settings, KafkaPublisher(settings.kafka, settings.kafka_timeout_seconds), VENDORS, mappings
    )
    # What is loaded by now (modules, the app, the vendors' maps) lives as long as the process: frozen,
    # it is out of the collector's reach and a full collection scans only the requests' objects
    # (without, each scanned some 300,000 objects and stopped the gateway for 100-170 ms).
    gc.collect()
    gc.freeze()
    uvicorn.run(  # the app reads X-Forwarded-For itself (CXA_INGEST_FORWARDED_ALLOW_IPS)
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        access_log=False,
        proxy_headers=False,
    )


@connector_app.command("writeback")
def writeback(
    vendor: str = typer.Option(..., help="zendesk, freshdesk, jira or chatwoot."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Log the calls instead of making them; commit nothing."
    ),
) -> None:
    """Assign tickets in the helpdesk as the router decides: consume tickets.routed and make the
    vendor's assignment call for each of its tickets (the latest decision per ticket), with retries.

    Runs until Ctrl-C or SIGTERM. Agents are the helpdesk's users by id (zendesk:900001), or
    mapped in CXA_WRITEBACK_AGENTS_FILE (CSV: agent_id,vendor_user_id)."""
    if vendor not in VENDORS:
        raise _fail(f"unknown helpdesk {vendor!r}: choose one of {', '.join(sorted(VENDORS))}")
    try:
        settings = WritebackSettings()
        if not dry_run and (not settings.base_url or settings.token is None):
            raise ValueError("set CXA_WRITEBACK_BASE_URL and CXA_WRITEBACK_TOKEN (or use --dry-run)")
        if settings.agents_file is not None and not settings.agents_file.is_file():
            raise ValueError(f"CXA_WRITEBACK_AGENTS_FILE {settings.agents_file} is not a file")
        if not dry_run:  # the decisions taken on are kept in live.writeback_decisions
            db.require_migrated(settings.database.url)
    except (ValidationError, ValueError, RuntimeError) as exc:
        raise _fail(str(exc)) from None
    except psycopg.OperationalError as exc:
        raise _fail(f"cannot reach PostgreSQL (DATABASE_URL): {exc}".strip()) from None
    log.info("writing %s's routing decisions back%s", vendor, " (dry run)" if dry_run else "")
    tally = Tally()
    try:
        run(VENDORS[vendor], settings, dry_run=dry_run, tally=tally)
    except WritebackStopped as exc:
        raise _fail(f"stopped, nothing committed from the batch in flight: {exc}") from None
    finally:
        typer.echo(
            f"applied {tally.applied}, refused {tally.refused}, given up {tally.given_up}, "
            f"skipped {tally.skipped} (no {vendor} user), stale {tally.stale}, "
            f"delivered again {tally.repeated}"
        )


IMPORT_HELP = (
    "Load agents and customers into raw.agents and raw.customers, and announce every agent's skills, "
    "languages and capacity on agents.events so that the router uses them.\n\n"
    "Agent fields: agent_id (required), name, team, skills (billing:0.9; refunds), languages (en; fr), "
    "capacity, shift_start (09:00 UTC), shift_hours, work_days (Mon-Fri or 1-5), hired_at.\n\n"
    "Customer fields: customer_id (required), segment, plan, region, language, signup_at, lifetime_value.\n\n"
    "A file with any bad row imports nothing, and every problem is listed by line. Importing again "
    "updates the rows in place. Whether an agent is online is not in an export: agents report it "
    "with agent.status_changed (for example through POST /events), and the router routes to online "
    "agents only."
)


@reference_app.command("import", help=IMPORT_HELP)
def import_reference(
    agents: Path | None = typer.Option(None, "--agents", help="CSV of the support agents."),
    customers: Path | None = typer.Option(None, "--customers", help="CSV of the customers."),
    columns: list[str] = typer.Option(
        [], "--map", help="FIELD=COLUMN: read FIELD from COLUMN (repeatable), e.g. agent_id=id."
    ),
    vendor: str | None = typer.Option(
        None,
        help="The helpdesk the exports come from (zendesk, freshdesk, jira, chatwoot): ids become the "
        "ids its webhooks carry (zendesk:123; Freshdesk people by email). Without it, ids are kept.",
    ),
    capacity: int = typer.Option(
        4, min=0, max=100, help="Tickets at once for an agent whose row gives no capacity."
    ),
) -> None:
    """Load agents and customers from CSV exports; announce the agents on agents.events."""
    if agents is None and customers is None:
        raise _fail("nothing to import: give --agents FILE, --customers FILE or both")
    if vendor is not None and vendor not in VENDORS:
        raise _fail(f"unknown helpdesk {vendor!r}: choose one of {', '.join(sorted(VENDORS))}")
    person = VENDORS[vendor].person if vendor else str
    try:
        fields = parse_map(columns)
        roster = read_agents(agents, fields, person, capacity) if agents else []
        people = read_customers(customers, fields, person) if customers else []
    except (ExportError, ValueError) as exc:
        raise _fail(str(exc)) from None
    database_url = DatabaseSettings().url
    try:
        db.require_migrated(database_url)
        load_reference(database_url, people, roster)
    except RuntimeError as exc:
        raise _fail(str(exc)) from None
    except psycopg.OperationalError as exc:
        raise _fail(f"cannot reach PostgreSQL (DATABASE_URL): {exc}".strip()) from None
    typer.echo(f"loaded {len(roster)} agents into raw.agents and {len(people)} customers into raw.customers")
    if roster:
        try:
            asyncio.run(_announce(announcements(roster, datetime.now(UTC))))
        except Exception as exc:
            raise _fail(
                f"the roster is loaded but agents.events did not get it ({exc!r}); is Kafka up "
                "(KAFKA_BOOTSTRAP_SERVERS)? Run the same import again: it is safe to repeat."
            ) from None
        typer.echo(f"announced {len(roster)} agents on agents.events")


async def _announce(events: Sequence[EventBase]) -> None:
    publisher = KafkaPublisher(KafkaSettings(), timeout_seconds=30.0)
    await publisher.start()
    try:
        await publisher.publish([record_of(event) for event in events])
    finally:
        await publisher.stop()
