"""Settings of the stream worker, built once at its entry point."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxa.settings import DatabaseSettings, KafkaSettings


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="CXA_WORKER_")

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    app_id: str = Field(default="cxa-worker", description="Faust app id, also the consumer group")
    data_dir: Path = Field(default=Path(".stack/worker"), description="Faust's local state")
    sink_batch_size: int = Field(default=1000, ge=1)
    sink_batch_seconds: float = Field(default=0.2, gt=0, description="Flush at least this often")
    retry_max_seconds: float = Field(default=30.0, gt=0, description="Backoff ceiling on failures")
    session_timeout_seconds: float = Field(
        default=30.0, ge=6, description="How soon a dead worker's partitions move to another"
    )
    web_port: int = Field(default=6066, description="Faust's web server (health, metrics)")
    web_enabled: bool = False
