"""`cxa ingest serve`: the webhook gateway."""

import logging

import typer
import uvicorn
from pydantic import ValidationError

from connectors.gateway import create_app
from connectors.publishing import KafkaPublisher
from connectors.settings import GatewaySettings
from connectors.vendors import VENDORS
from connectors.vendors.mapping import load_mappings

log = logging.getLogger(__name__)

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
