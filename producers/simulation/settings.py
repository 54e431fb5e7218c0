"""Settings of the ticketing-system simulator (environment variables prefixed CXA_SIM_)."""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxa.settings import DatabaseSettings, KafkaSettings

FallbackPolicy = Literal["least-loaded", "round-robin", "skills"]


class SimulationSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_prefix="CXA_SIM_", env_ignore_empty=True
    )

    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)

    seed: int = 7
    tickets_per_day: float = Field(default=820.0, gt=0, description="An average day at the start")
    growth_per_year: float = Field(default=0.08, description="Relative volume growth per year")
    incidents_per_month: float = Field(default=1.5, ge=0, description="Bursts in one category")
    incident_multiplier: float = Field(default=4.0, ge=1, description="Extra volume in a burst")
    channel_mix: dict[str, float] = {"email": 0.40, "chat": 0.25, "web": 0.20, "phone": 0.10, "social": 0.05}
    priority_mix: dict[str, float] = {"low": 0.20, "normal": 0.60, "high": 0.15, "urgent": 0.05}
    language_mix: dict[str, float] = {"en": 0.86, "es": 0.08, "fr": 0.04, "de": 0.02}
    customers: int = Field(default=20_000, ge=1)
    agents: int = Field(default=60, ge=1)
    teams: int = Field(default=4, ge=1)
    shift_starts: list[int] = Field(
        default=[0, 5, 6, 7, 7, 8, 8, 9, 9, 10, 11, 12, 13, 16, 20],
        description="UTC hours shifts start at, drawn uniformly: a thin night crew, a day peak",
    )
    wrong_first_guess_share: float = Field(
        default=0.15, ge=0, le=1, description="Share of tickets whose category agents correct"
    )
    priority_change_rate: float = Field(
        default=0.05, ge=0, le=1, description="Share of tickets whose priority the agent changes at triage"
    )
    csat_response_rate: float = Field(default=0.35, ge=0, le=1)
    reopen_rate: float = Field(default=0.06, ge=0, le=1)
    texts_path: Path | None = Field(default=None, description="Labelled texts (CSV); None: shipped")
    text_column: str = "text"
    label_column: str = "category"
    shape_path: Path | None = Field(default=None, description="Arrival shape JSON; None: shipped")
    route_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Simulated seconds to wait for tickets.routed"
    )
    fallback_policy: FallbackPolicy = "least-loaded"
