"""Settings of the stream worker, built once at its entry point."""

from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxa import events
from cxa.settings import DatabaseSettings, KafkaSettings
from stream_processors.ingest.validation import Limits


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="CXA_WORKER_")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    app_id: str = Field(default="cxa-worker", description="Faust app id, also the consumer group")
    data_dir: Path = Field(default=Path(".stack/worker"), description="Faust's local state")
    sink_batch_size: int = Field(default=1000, ge=1)
    sink_batch_seconds: float = Field(default=0.05, gt=0, description="Flush at least this often")
    fetch_max_wait_ms: int = Field(
        default=100, ge=1, le=1500, description="Longest a Kafka fetch waits for data (bounds delay)"
    )
    retry_max_seconds: float = Field(default=30.0, gt=0, description="Backoff ceiling on failures")
    max_message_bytes: int = Field(
        default=256 * 1024, ge=1024, description="Bigger source messages are dead-lettered (too_large)"
    )
    max_clock_skew_seconds: float = Field(
        default=events.MAX_AHEAD.total_seconds(),
        ge=0,
        le=events.LONGEST_AHEAD.total_seconds(),
        description="Events dated further ahead of the worker's clock are dead-lettered (clock_skew)",
    )
    deadletter_max_bytes: int = Field(
        default=512 * 1024,
        ge=1024,
        le=900 * 1024,  # with headers and key, under the producer's request limit (1,000,000 bytes)
        description="A dead letter's value is cut to this (below the broker's message.max.bytes)",
    )
    send_timeout_seconds: float = Field(
        default=30.0, ge=5, description="A send Kafka has not confirmed by then fails, and is retried"
    )
    session_timeout_seconds: float = Field(
        default=30.0, ge=6, description="How soon a dead worker's partitions move to another"
    )
    web_port: int = Field(default=6066, description="Faust's web server (health, metrics)")
    web_enabled: bool = False

    categorizer_enabled: bool = Field(default=True, description="Run the ticket categorizer's Faust agents")
    categorizer_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Below this confidence the categorizer abstains"
    )
    categorizer_batch_size: int = Field(default=256, ge=1)
    categorizer_batch_seconds: float = Field(default=0.05, gt=0)
    categorizer_checkpoint_seconds: float = Field(
        default=30.0, gt=0, description="How often the learner checkpoints its model to PostgreSQL"
    )
    categorizer_reload_seconds: float = Field(
        default=10.0, gt=0, description="How often workers look for a newer checkpoint to load"
    )
    categorizer_keep_checkpoints: int = Field(default=5, ge=1)
    categorizer_pending_capacity: int = Field(
        default=200_000, ge=1, description="Tickets waiting for their confirmed category, at most"
    )
    categorizer_pending_ttl_seconds: float = Field(
        default=7 * 24 * 3600.0, gt=0, description="Forget a waiting ticket's features after this"
    )
    categorizer_monitor_window: int = Field(default=500, ge=10, description="Rolling accuracy window")

    routing_enabled: bool = Field(default=True, description="Keep the floor, route, write live tables")
    routing_policy: Literal["optimizer", "greedy", "round-robin", "least-loaded"] = "optimizer"
    routing_interval_seconds: float = Field(default=1.0, gt=0, le=1.0, description="Micro-batch period")
    routing_time_budget_ms: float = Field(default=200.0, gt=0)
    routing_min_skill: float = Field(
        default=0.3, ge=0, le=1, description="Least proficiency in the predicted category to get a ticket"
    )
    routing_max_batch: int = Field(default=200, ge=1, description="Most urgent waiting tickets per round")
    routing_reroute_after_seconds: float = Field(
        default=10.0, gt=0, description="Route a ticket again if its assignment has not come by then"
    )
    routing_catch_up_lag_seconds: float = Field(
        default=120.0, gt=0, description="Route only when the newest event is at most this old"
    )
    at_risk_minutes: float = Field(default=30.0, gt=0, description="First-reply target this close: at risk")
    sla_clock: Literal["calendar", "business"] = Field(
        default="calendar",
        description="The wall board's and the router's SLA clock: every minute, or business hours "
        "only (the marts carry both, as first_reply_due_at and first_reply_due_business_at)",
    )

    @property
    def limits(self) -> Limits:
        """What validation accepts beyond the schema."""
        return Limits(self.max_message_bytes, timedelta(seconds=self.max_clock_skew_seconds))
