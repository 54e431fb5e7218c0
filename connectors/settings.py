"""Settings of the ingest gateway and of the write-back connector, built once at their entry points."""

import ipaddress
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxa.settings import DatabaseSettings, KafkaSettings

MIN_SECRET_LENGTH = 8


def _parts(value: SecretStr | None) -> list[str]:
    return [part.strip() for part in value.get_secret_value().split(",")] if value else []


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_prefix="CXA_INGEST_", env_ignore_empty=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    host: str = Field(default="127.0.0.1", description="Address to listen on (0.0.0.0 in a container)")
    port: int = Field(default=8060, ge=1, le=65535)
    events_token: SecretStr | None = Field(default=None, description="Bearer token of POST /events")
    zendesk_secret: SecretStr | None = Field(
        default=None,
        description="The Zendesk webhooks' signing secrets (events, CSAT trigger), comma-separated",
    )
    zendesk_max_age_seconds: int = Field(
        default=300, ge=1, description="Zendesk deliveries signed longer ago are refused (replays)"
    )
    freshdesk_token: SecretStr | None = Field(
        default=None, description="X-Cxa-Token the Freshdesk rule sends"
    )
    jira_secret: SecretStr | None = Field(
        default=None, description="The Jira webhook's secret (X-Hub-Signature)"
    )
    chatwoot_secret: SecretStr | None = Field(
        default=None, description="The Chatwoot webhook's secret (4.11.2+), or the ?token= of its URL"
    )
    mapping_file: Path | None = Field(default=None, description="Overrides of the vendors' value maps (TOML)")

    @field_validator("zendesk_secret", "freshdesk_token", "jira_secret", "chatwoot_secret")
    @classmethod
    def _each_secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if any(len(part) < MIN_SECRET_LENGTH for part in _parts(value)):
            raise ValueError(
                f"each comma-separated secret needs at least {MIN_SECRET_LENGTH} characters "
                "(a secret with a comma in it is read as two: choose one without)"
            )
        return value

    def secrets(self, setting: str) -> list[str]:
        """A webhook secret setting's secrets (comma-separated: a rotation, or Zendesk's two
        webhooks); none when it is not set."""
        return _parts(getattr(self, setting))

    max_body_bytes: int = Field(default=512 * 1024, ge=1024, le=900 * 1024, description="Bigger: 413")
    rate_limit: str = Field(
        default="1000/second", description="Requests per client address (limits' syntax, e.g. 100/second)"
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="The reverse proxies (addresses or networks, comma-separated; * for any) whose "
        "X-Forwarded-For names the client, for the rate limit; others' is ignored",
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        for part in (part.strip() for part in value.split(",")):
            if part == "*":
                continue
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"{part!r} is neither an address nor a network (such as 10.0.0.5 or 172.16.0.0/12), nor *"
                ) from None
        return value

    def trusted_proxies(self) -> list[str]:
        return [part.strip() for part in self.forwarded_allow_ips.split(",")]

    kafka_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A request whose events Kafka has not acknowledged by then gets 503"
    )


class WritebackSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_prefix="CXA_WRITEBACK_", env_ignore_empty=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(
        default_factory=DatabaseSettings, description="DATABASE_URL: the decisions taken on, kept"
    )
    base_url: str | None = Field(
        default=None,
        description="The helpdesk's API base: https://{sub}.zendesk.com, https://{domain}.freshdesk.com, "
        "https://{site}.atlassian.net, https://{host}/api/v1/accounts/{account_id} (Chatwoot)",
    )
    user: str = Field(default="", description="The API user's email (Zendesk, Jira); unused by the others")
    token: SecretStr | None = Field(
        default=None, description="API token (Zendesk, Jira), key (Freshdesk), access token (Chatwoot)"
    )
    agents_file: Path | None = Field(
        default=None, description="CSV of agent_id,vendor_user_id for agents whose ids are not the helpdesk's"
    )
    group_id: str | None = Field(default=None, description="Consumer group [default: cxa-writeback-{vendor}]")
    max_attempts: int = Field(
        default=5, ge=1, le=20, description="Tries per decision on 429, 5xx or no answer"
    )
    retry_max_seconds: float = Field(default=60.0, gt=0, description="Longest wait between two tries")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Of one HTTP call")
    max_age_seconds: int = Field(
        default=3600, ge=0, description="Decisions older than this are stale and not applied (0: no limit)"
    )
