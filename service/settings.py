"""The service's settings: one class read from `PLANENET_*` environment variables and flags."""

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.figures import MAX_RESOLUTION
from service.api_keys import parse_api_keys
from service.domain.heartbeats import (
    DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    HEARTBEAT_SECONDS,
    MIN_HEARTBEAT_TIMEOUT_SECONDS,
    MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS,
    STORE_LOCK_WAIT_SECONDS,
)

LogLevel = Literal["critical", "error", "warning", "info", "debug"]

ENV_PREFIX = "PLANENET_"


def _default_workers() -> int:
    return os.cpu_count() or 1


class Settings(BaseSettings):
    """Where the service listens, where it keeps its data, who may change state, and its limits.

    Every field is read from ``PLANENET_<FIELD>`` (e.g. ``PLANENET_MAX_EPOCHS``); the flags of
    ``planenet serve`` override the environment. The limits are enforced before any work
    starts: a request over one is answered 413 naming the limit and its setting.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; None means SQLite at {data_dir}/planenet.db"
    )
    auto_migrate: bool = Field(
        default=True,
        description=(
            "bring the database to the newest schema revision at start; when off, a database "
            "behind is refused until `planenet db upgrade` is run"
        ),
    )
    workers: int = Field(
        default_factory=_default_workers,
        ge=0,
        description="training worker processes; 0 runs none here (workers elsewhere claim jobs)",
    )
    http_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="API processes serving HTTP on the one port; the training workers are shared",
    )
    api_key: SecretStr | None = None
    protect_reads: bool = False
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: LogLevel = "info"
    job_heartbeat_timeout: float = Field(
        default=DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
        allow_inf_nan=False,
        description=(
            "seconds a running job may go without a heartbeat from its worker before it is "
            f"marked failed (at least {MIN_HEARTBEAT_TIMEOUT_SECONDS:g} on SQLite, "
            f"{MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS:g} on PostgreSQL; workers beat every "
            f"{HEARTBEAT_SECONDS:g} s)"
        ),
    )

    max_queued_jobs: int = Field(
        default=1000,
        ge=1,
        description="jobs waiting for a worker, across every process sharing the database",
    )
    max_epochs: int = Field(default=100_000, ge=1, description="epochs of one job")
    max_training_points: int = Field(default=100_000, ge=1, description="points of one job")
    max_hidden_layers: int = Field(default=8, ge=0, description="hidden layers of a network")
    max_units: int = Field(default=256, ge=1, description="units per hidden layer")
    max_predict_points: int = Field(
        default=100_000, ge=1, description="points of one prediction request"
    )
    max_batch_units: int = Field(
        default=5_000_000,
        ge=1,
        description="rows per batch (or of the validation set) x hidden units of a job",
    )
    max_body_bytes: int = Field(
        default=6 * 1024 * 1024, ge=1024, description="bytes of a request body"
    )
    max_boundary_resolution: int = Field(
        default=500,
        ge=2,
        le=MAX_RESOLUTION,
        description="grid points per axis of a boundary figure",
    )

    # Bounds that keep one client from exhausting the server: connections, slow requests,
    # event streams, the queue, and how long finished jobs are kept.
    max_connections: int = Field(
        default=2000, ge=1, description="open HTTP connections; past it requests get 503"
    )
    header_timeout: float = Field(
        default=10.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds a client may take to send a request's head (then 408, closed)",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        description="seconds a client may take to send a request's body (then closed)",
    )
    max_event_streams: int = Field(
        default=1000, ge=1, description="open event streams; past it 503 with Retry-After"
    )
    job_retention_days: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="delete finished jobs older than this many days (default: keep them)",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept a comma-separated string (``a,b``) as well as a list."""
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("job_heartbeat_timeout")
    @classmethod
    def _safe_heartbeat_timeout(cls, value: float, info: ValidationInfo) -> float:
        """A shorter timeout would fail the jobs of live workers whose beat waited on a lock."""
        on_sqlite = not str(info.data.get("database_url") or "sqlite").startswith("postgresql")
        if on_sqlite:
            if not value >= MIN_HEARTBEAT_TIMEOUT_SECONDS:
                raise ValueError(
                    f"must be at least {MIN_HEARTBEAT_TIMEOUT_SECONDS:g} seconds on SQLite: "
                    f"workers beat every {HEARTBEAT_SECONDS:g} s, and a beat may wait up to "
                    f"{STORE_LOCK_WAIT_SECONDS:g} s for the database"
                )
        elif not value >= MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS:
            raise ValueError(
                f"must be at least {MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS:g} seconds on "
                f"PostgreSQL: workers beat every {HEARTBEAT_SECONDS:g} s, and two beats in a "
                "row may fail"
            )
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_log_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @property
    def resolved_database_url(self) -> str:
        """The database URL to use: the configured one, or SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'planenet.db'}"

    # API keys: several keys (comma-separated) let a key be rotated without downtime.

    @field_validator("api_key")
    @classmethod
    def _usable_api_keys(cls, value: SecretStr | None) -> SecretStr | None:
        """Refuse a key that would leave the API open or that no client could send."""
        if value is not None:
            parse_api_keys(value.get_secret_value())
        return value

    @model_validator(mode="after")
    def _reads_protected_by_a_key(self) -> "Settings":
        if self.protect_reads and self.api_key is None:
            raise ValueError(
                "protect_reads is set but no API key is: set PLANENET_API_KEY, "
                "or unset PLANENET_PROTECT_READS"
            )
        return self

    @property
    def api_keys(self) -> tuple[str, ...]:
        """The API keys accepted, in clear; empty when state changes are open to all."""
        return () if self.api_key is None else parse_api_keys(self.api_key.get_secret_value())

    @property
    def api_key_value(self) -> str | None:
        """The first configured API key in clear, or None when state changes are open to all."""
        return self.api_keys[0] if self.api_keys else None


def setting_env_name(field_name: str) -> str:
    """The environment variable of a setting, e.g. ``max_epochs`` -> ``PLANENET_MAX_EPOCHS``."""
    return f"{ENV_PREFIX}{field_name.upper()}"
