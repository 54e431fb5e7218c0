"""Settings of the dashboard (one object, built at the entry point and passed down)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class DashboardSettings(BaseSettings):
    """How the dashboard serves, signs sessions, expires them and rate-limits logins."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    host: str = Field(default="127.0.0.1", validation_alias="CXA_DASHBOARD_HOST")
    port: int = Field(default=8050, ge=1, le=65535, validation_alias="CXA_DASHBOARD_PORT")
    secret_key: SecretStr | None = Field(
        default=None,
        validation_alias="CXA_DASHBOARD_SECRET_KEY",
        description="Signs session cookies. Unset: a random key per start (sessions end on restart).",
    )
    session_minutes: int = Field(default=480, ge=1, validation_alias="CXA_DASHBOARD_SESSION_MINUTES")
    login_max_failures: int = Field(default=5, ge=1, validation_alias="CXA_DASHBOARD_LOGIN_MAX_FAILURES")
    login_window_minutes: int = Field(default=15, ge=1, validation_alias="CXA_DASHBOARD_LOGIN_WINDOW_MINUTES")
    login_lockout_minutes: int = Field(
        default=15, ge=1, validation_alias="CXA_DASHBOARD_LOGIN_LOCKOUT_MINUTES"
    )
    proxy_hops: int = Field(
        default=0,
        ge=0,
        validation_alias="CXA_DASHBOARD_PROXY_HOPS",
        description="Reverse proxies in front that set X-Forwarded-* (0: none, headers ignored).",
    )
    secure_cookies: bool = Field(default=False, validation_alias="CXA_DASHBOARD_SECURE_COOKIES")
    refresh_ms: int = Field(default=2000, ge=250, le=2000, validation_alias="CXA_DASHBOARD_REFRESH_MS")
    stale_seconds: float = Field(default=10.0, gt=0, validation_alias="CXA_DASHBOARD_STALE_SECONDS")
