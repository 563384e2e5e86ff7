"""Process-wide settings, read from the environment (prefix ``CONTANGO_``) when first asked for.

Nothing is read at import time: tests and long-lived workers call :func:`get_settings` and can
clear its cache, so that the same job gives the same result whatever ran before.

The embedded default (``environment=development``) needs no configuration at all: the metadata
database is a SQLite file in the data folder and the signing keys are generated there on first
use. ``environment=production`` refuses to start without explicit secrets, so that a deployment
never runs on keys that a developer's laptop could have produced.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_ACCESS_TOKEN_MINUTES = 15


def _default_data_dir() -> Path:
    return Path.cwd() / "var" / "data"


class Settings(BaseSettings):
    """Contango's configuration; every field can be set as ``CONTANGO_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="CONTANGO_", frozen=True, extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses default secrets and requires an explicit database URL.",
    )
    data_dir: Path = Field(
        default_factory=_default_data_dir,
        description="Folder holding the market data store, user contract specs and results.",
    )
    user: str = Field(
        default="local",
        description="Name recorded as the author of dataset versions created from this process.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy async URL of the metadata database, e.g. "
            "`postgresql+asyncpg://contango@db/contango`; default: SQLite in the data folder."
        ),
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description=(
            "Secret for CSRF tokens and for encrypting MFA secrets at rest (32+ characters). "
            "Development: generated into `<data_dir>/keys` on first use."
        ),
    )
    token_signing_key_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the Ed25519 private key that signs access tokens. "
            "Development: generated into `<data_dir>/keys` on first use."
        ),
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description=(
            "PEM file of the Ed25519 private key that signs audit checkpoints; keep it apart "
            "from the database. Development: generated into `<data_dir>/keys` on first use."
        ),
    )
    audit_checkpoint_minutes: int = Field(
        default=5,
        ge=1,
        le=1440,
        description="How often the server signs a checkpoint of the audit chain head.",
    )
    token_issuer: str = Field(default="contango", description="`iss` of issued access tokens.")
    token_audience: str = Field(default="contango-api", description="`aud` of access tokens.")
    access_token_minutes: int = Field(
        default=MAX_ACCESS_TOKEN_MINUTES,
        ge=1,
        le=MAX_ACCESS_TOKEN_MINUTES,
        description="Lifetime of an access token, at most 15 minutes.",
    )
    refresh_token_days: int = Field(
        default=7, ge=1, le=90, description="Lifetime of a login session's refresh token."
    )
    cookie_secure: bool = Field(
        default=True,
        description="Send auth cookies only over HTTPS (browsers count http://localhost as such).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL of an OpenID Connect provider; setting it enables single sign-on.",
    )
    oidc_client_id: str | None = Field(default=None, description="OIDC client id.")
    oidc_client_secret: SecretStr | None = Field(default=None, description="OIDC client secret.")
    oidc_scopes: str = Field(default="openid email profile", description="OIDC scopes to ask.")
    oidc_default_role: str = Field(
        default="viewer", description="Role given to a user created by their first SSO login."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where users reach Contango; OIDC redirect URIs are built from it.",
    )
    host: str = Field(default="127.0.0.1", description="Address `contango serve` listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `contango serve` uses.")
    web_dir: Path | None = Field(
        default_factory=lambda: Path(__file__).resolve().parents[2] / "frontend" / "dist",
        description="The web app's production build, served at `/` (None: API only).",
    )
    upload_max_bytes: int = Field(
        default=2 * 1024**3, ge=1, description="Largest dataset upload accepted, in bytes."
    )
    log_format: Literal["json", "text"] = Field(default="json", description="Log line format.")
    log_level: str = Field(default="INFO", description="Python logging level name.")
    otel_exporter: Literal["none", "otlp", "console"] = Field(
        default="none",
        description=(
            "OpenTelemetry span exporter; `otlp` follows the standard OTEL_EXPORTER_OTLP_* "
            "variables for its endpoint and headers."
        ),
    )
    otel_service_name: str = Field(default="contango", description="`service.name` of spans.")
    job_backend: Literal["local", "celery"] = Field(
        default="local",
        description=(
            "Where jobs run: `local` = a pool of worker processes started by `contango serve`; "
            "`celery` = Celery workers on Redis (`celery -A contango.workers.celery_app worker`)."
        ),
    )
    redis_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Redis for the Celery broker and live progress (used when job_backend=celery).",
    )
    worker_slots: int = Field(
        default=1,
        ge=1,
        le=256,
        description="Worker processes of the local pool (job_backend=local): jobs run at once.",
    )
    lease_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description=(
            "How long a job attempt holds its lease without a heartbeat; a job whose lease "
            "expired (its worker was killed) is queued again or quarantined."
        ),
    )
    heartbeat_seconds: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="How often a running job renews its lease (well below lease_seconds).",
    )
    max_attempts: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Attempts of a job before it is quarantined (failed) after repeated crashes.",
    )
    redispatch_seconds: float = Field(
        default=300.0,
        ge=1,
        le=86_400,
        description=(
            "A queued job whose queue message was sent this long ago without a worker taking "
            "it is sent again (the broker may have lost the message); duplicates are harmless."
        ),
    )
    warm_up: bool = Field(
        default=True,
        description=(
            "contango serve (with the local job backend) compiles the engine's kernels in a "
            "background process at start (a minute once per installation, then cached), so "
            "the first job does not wait."
        ),
    )
    sweep_chunk_size: int = Field(
        default=2_000,
        ge=1,
        description="Parameter sets per task when Celery fans a sweep out across workers.",
    )
    sandbox_cpu_seconds: int = Field(
        default=60,
        ge=1,
        le=86_400,
        description="CPU-time limit of one run of custom strategy code (RLIMIT_CPU).",
    )
    sandbox_memory_mb: int = Field(
        default=1024,
        ge=64,
        le=1_048_576,
        description="Address-space limit of the custom strategy sandbox in MiB (RLIMIT_AS).",
    )

    @model_validator(mode="after")
    def _no_default_secrets_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        missing = [
            name
            for name, value in (
                ("CONTANGO_DATABASE_URL", self.database_url),
                ("CONTANGO_SECRET_KEY", self.secret_key),
                ("CONTANGO_TOKEN_SIGNING_KEY_FILE", self.token_signing_key_file),
                ("CONTANGO_AUDIT_SIGNING_KEY_FILE", self.audit_signing_key_file),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"production needs explicit {', '.join(missing)}")
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("CONTANGO_SECRET_KEY must be at least 32 characters")
        return self

    @model_validator(mode="after")
    def _heartbeat_inside_lease(self) -> Settings:
        if self.heartbeat_seconds * 2 > self.lease_seconds:
            raise ValueError(
                f"heartbeat_seconds ({self.heartbeat_seconds}) must be at most half of "
                f"lease_seconds ({self.lease_seconds}), or a live job would lose its lease"
            )
        return self

    @property
    def store_dir(self) -> Path:
        """Where the versioned Parquet store keeps its datasets."""
        return self.data_dir / "store"

    @property
    def specs_dir(self) -> Path:
        """Where user-supplied contract specification files (``*.yaml``) are read from."""
        return self.data_dir / "specs"

    @property
    def keys_dir(self) -> Path:
        """Where development keys are generated; production points at mounted secrets."""
        return self.data_dir / "keys"

    @property
    def results_dir(self) -> Path:
        """Where backtest, sweep and walk-forward results are written."""
        return self.data_dir / "results"

    @property
    def uploads_dir(self) -> Path:
        """Where uploads are streamed to before they are validated and imported."""
        return self.data_dir / "uploads"

    @property
    def metadata_url(self) -> str:
        """The metadata database URL, defaulting to a SQLite file in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'contango.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
