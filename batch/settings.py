"""Settings of the batch side (nightly job, forecasts, staffing), from environment variables."""

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt"


class BatchSettings(BaseSettings):
    """What the nightly job builds and the targets staffing plans for."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    dbt_project_dir: Path = Field(default=DBT_PROJECT_DIR, validation_alias="CXA_DBT_PROJECT_DIR")
    dbt_target_dir: Path | None = Field(
        default=None,
        validation_alias="CXA_DBT_TARGET_DIR",
        description="Where dbt writes its target/ and logs/ (default: inside the dbt project).",
    )
    dbt_full_refresh: bool = Field(default=False, validation_alias="CXA_DBT_FULL_REFRESH")
    forecast_method: str = Field(
        default="auto",
        validation_alias="CXA_FORECAST_METHOD",
        description="auto (per series and grain, the candidate with the lowest backtest MASE) or one "
        "method for every series: seasonal_naive, seasonal_median, seasonal_mean, mstl, auto_ets, "
        "prophet, ensemble.",
    )
    forecast_candidates: str = Field(
        default="",
        validation_alias="CXA_FORECAST_CANDIDATES",
        description="Comma-separated methods auto chooses from (empty: all; seasonal_naive always).",
    )
    forecast_horizon_days: int = Field(default=14, ge=1, le=90, validation_alias="CXA_FORECAST_HORIZON_DAYS")
    forecast_history_days: int = Field(default=365, ge=14, validation_alias="CXA_FORECAST_HISTORY_DAYS")
    forecast_interval_width: float = Field(default=0.8, gt=0, lt=1, validation_alias="CXA_FORECAST_INTERVAL")
    forecast_uncertainty_samples: int = Field(default=200, ge=0, validation_alias="CXA_FORECAST_SAMPLES")
    forecast_holidays_country: str = Field(default="US", validation_alias="CXA_FORECAST_HOLIDAYS")
    backtest_folds: int = Field(default=4, ge=1, le=20, validation_alias="CXA_BACKTEST_FOLDS")
    reforecast_prior_arrivals: float | None = Field(
        default=None,
        ge=0,
        validation_alias="CXA_REFORECAST_PRIOR_ARRIVALS",
        description="Pseudo-arrivals shrinking the intraday ratio toward 1 (empty: estimated per channel "
        "from how much its days have swung over the last 8 weeks).",
    )
    staffing_service_level: float = Field(
        default=0.8, gt=0, lt=1, validation_alias="CXA_STAFFING_SERVICE_LEVEL"
    )
    staffing_answer_seconds: float = Field(default=60, gt=0, validation_alias="CXA_STAFFING_ANSWER_SECONDS")
    staffing_backlog_hours: float = Field(
        default=4,
        gt=0,
        validation_alias="CXA_STAFFING_BACKLOG_HOURS",
        description="Email/web/social: work arriving must be done within this many hours.",
    )
    staffing_max_occupancy: float = Field(
        default=0.85, gt=0, le=1, validation_alias="CXA_STAFFING_MAX_OCCUPANCY"
    )
    staffing_shrinkage: float = Field(default=0.3, ge=0, lt=1, validation_alias="CXA_STAFFING_SHRINKAGE")
    aht_chat_seconds: float = Field(default=480, gt=0, validation_alias="CXA_AHT_CHAT_SECONDS")
    aht_phone_seconds: float = Field(default=360, gt=0, validation_alias="CXA_AHT_PHONE_SECONDS")
    aht_email_seconds: float = Field(default=600, gt=0, validation_alias="CXA_AHT_EMAIL_SECONDS")
    aht_web_seconds: float = Field(default=540, gt=0, validation_alias="CXA_AHT_WEB_SECONDS")
    aht_social_seconds: float = Field(default=300, gt=0, validation_alias="CXA_AHT_SOCIAL_SECONDS")
    shift_hours: int = Field(default=8, ge=1, le=12, validation_alias="CXA_SHIFT_HOURS")
    shift_cost_per_hour: float = Field(default=30.0, gt=0, validation_alias="CXA_SHIFT_COST_PER_HOUR")
    solver_seconds: int = Field(default=30, ge=1, validation_alias="CXA_SOLVER_SECONDS")

    @field_validator("dbt_target_dir", "reforecast_prior_arrivals", mode="before")
    @classmethod
    def empty_means_default(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("forecast_method")
    @classmethod
    def known_method(cls, value: str) -> str:
        from batch.forecast import AUTO, METHODS

        if value not in (AUTO, *METHODS):
            raise ValueError(
                f"unknown forecast method {value!r}; choose {AUTO} or one of {', '.join(METHODS)}"
            )
        return value

    @field_validator("forecast_candidates")
    @classmethod
    def known_candidates(cls, value: str) -> str:
        from batch.forecast import METHODS

        unknown = [name for name in cls.names(value) if name not in METHODS]
        if unknown:
            raise ValueError(
                f"unknown forecast method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}"
            )
        return value

    @staticmethod
    def names(value: str) -> list[str]:
        return [name.strip() for name in value.split(",") if name.strip()]

    def candidates(self) -> tuple[str, ...]:
        """The methods ``auto`` chooses from."""
        from batch.forecast import CANDIDATES

        return tuple(self.names(self.forecast_candidates)) or CANDIDATES

    def aht_seconds(self) -> dict[str, float]:
        """Average handle time per channel."""
        return {
            "chat": self.aht_chat_seconds,
            "phone": self.aht_phone_seconds,
            "email": self.aht_email_seconds,
            "web": self.aht_web_seconds,
            "social": self.aht_social_seconds,
        }
