"""`cxa ingest serve`: the webhook gateway."""

import logging

import typer
import uvicorn
from pydantic import ValidationError

from connectors.gateway import create_app
from connectors.publishing import KafkaPublisher
from connectors.settings import GatewaySettings, WritebackSettings
from connectors.vendors import VENDORS
from connectors.vendors.mapping import load_mappings
from connectors.writeback import run

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


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@ingest_app.command("serve")
def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on [default: CXA_INGEST_HOST or 127.0.0.1]."
    ),
    port: int | None = typer.Option(None, help="Port [default: CXA_INGEST_PORT or 8060]."),
) -> None:
    """Serve POST /webhooks/{zendesk,freshdesk,jira,chatwoot}, POST /events, GET /healthz, /readyz.

    A request is answered 202 once Kafka has its events; 401 without a valid signature or token,
    400 (and a dead letter) for what cannot be mapped, 413 over the size limit, 429 over the rate."""
    try:
        settings = GatewaySettings()
        mappings = load_mappings(settings.mapping_file)
    except (ValidationError, ValueError) as exc:
        raise _fail(f"the gateway's settings are wrong: {exc}") from None
    enabled = [name for name, vendor in VENDORS.items() if getattr(settings, vendor.secret_setting)]
    log.info(
        "webhooks on for: %s; POST /events %s",
        ", ".join(enabled) or "none (set CXA_INGEST_<VENDOR>_SECRET or _TOKEN)",
        "on" if settings.events_token else "off (set CXA_INGEST_EVENTS_TOKEN)",
    )
    app = create_app(
        settings, KafkaPublisher(settings.kafka, settings.kafka_timeout_seconds), VENDORS, mappings
    )
    uvicorn.run(
        app, host=host or settings.host, port=port or settings.port, log_level="info", access_log=False
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
    except (ValidationError, ValueError) as exc:
        raise _fail(str(exc)) from None
    log.info("writing %s's routing decisions back%s", vendor, " (dry run)" if dry_run else "")
    tally = run(VENDORS[vendor], settings, dry_run=dry_run)
    typer.echo(
        f"applied {tally.applied}, refused {tally.refused}, given up {tally.given_up}, "
        f"skipped {tally.skipped} (no {vendor} user)"
    )
