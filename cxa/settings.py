"""Settings read from environment variables (and a ``.env`` file in the working directory).

Each deployable builds one settings object at its entry point and passes it down; the pieces
here are the infrastructure every deployable shares.
"""

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_ENV = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True)


class KafkaSettings(BaseSettings):
    """Where the Kafka cluster is and how topics are laid out."""

    model_config = _ENV

    bootstrap_servers: str = Field(
        default="127.0.0.1:59092",
        validation_alias="KAFKA_BOOTSTRAP_SERVERS",
        description="Comma-separated host:port list of Kafka brokers.",
    )
    partitions: int = Field(
        default=4,
        ge=1,
        validation_alias="CXA_KAFKA_PARTITIONS",
        description="Partitions for topics that `cxa migrate` creates (the unit of scale-out).",
    )
    replication_factor: int = Field(
        default=1,
        ge=1,
        validation_alias="CXA_KAFKA_REPLICATION_FACTOR",
        description="Replication factor for created topics (1 on a single local broker).",
    )


class DatabaseSettings(BaseSettings):
    """How to reach PostgreSQL."""

    model_config = _ENV

    url: str = Field(
        default="postgresql://cxa@127.0.0.1:55432/cxa",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy/libpq URL of the cxa database.",
    )


class StackSettings(BaseSettings):
    """The project-local Kafka and PostgreSQL started by `cxa stack up` (development only)."""

    model_config = _ENV

    stack_dir: Path = Field(default=Path(".stack"), validation_alias="CXA_STACK_DIR")
    cache_dir: Path = Field(default=Path(".cache"), validation_alias="CXA_CACHE_DIR")
    kafka_version: str = Field(default="4.1.1", validation_alias="CXA_KAFKA_VERSION")
    kafka_port: int = Field(default=59092, validation_alias="CXA_KAFKA_PORT")
    kafka_controller_port: int = Field(default=59093, validation_alias="CXA_KAFKA_CONTROLLER_PORT")
    kafka_heap: str = Field(default="512m", validation_alias="CXA_KAFKA_HEAP")
    postgres_port: int = Field(default=55432, validation_alias="CXA_POSTGRES_PORT")
    postgres_bin_dir: Path = Field(
        default=Path("/usr/lib/postgresql/15/bin"), validation_alias="CXA_POSTGRES_BIN_DIR"
    )
    postgres_user: str = Field(default="cxa", validation_alias="CXA_POSTGRES_USER")
    postgres_db: str = Field(default="cxa", validation_alias="CXA_POSTGRES_DB")
