"""Typed process settings, read once from the environment and ``.env``.

Per-guild options live in the database (``bot.forum.settings``); this module only holds what a
process needs to start: the token, where the database is, where Discord is, logging and sharding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG"]

DEFAULT_DATA_DIR = Path("data")


class SettingsError(Exception):
    """A setting has a bad value; the message is one readable line naming it."""


class Settings(BaseSettings):
    """Everything a qa-bot process reads from its environment."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
    )

    discord_token: SecretStr | None = Field(
        default=None, description="The bot token from the Discord developer portal."
    )
    data_dir: Path = Field(
        default=DEFAULT_DATA_DIR, description="Folder for the embedded SQLite database."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default sqlite+aiosqlite:///<DATA_DIR>/qa-bot.sqlite3.",
    )
    discord_api_base_url: str | None = Field(
        default=None, description="REST base (e.g. a rate-limit proxy); default Discord's own."
    )
    discord_gateway_url: str | None = Field(
        default=None, description="Gateway URL; default the one Discord announces."
    )
    log_level: LogLevel = "INFO"
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[list[int] | None, NoDecode] = None
    dev_guild_id: int | None = Field(default=None, ge=1)
    # Knobs for tests against the loopback fake Discord; production keeps discord.py's values.
    guild_ready_timeout: float = Field(default=2.0, ge=0)
    reidentify_delay: float = Field(default=5.0, ge=0)
    # Discord's session-start spacing: one IDENTIFY per max_concurrency bucket in this many
    # seconds, kept across processes through PostgreSQL (bot.db.identify_gate).
    identify_window: float = Field(default=5.0, gt=0)
    # A gateway connection silent this long (no frame, no heartbeat ACK) is closed and resumed.
    gateway_heartbeat_timeout: float = Field(default=60.0, gt=0)
    # The bound on every REST request, discord.py's own retries and rate-limit waits included
    # (bot.rest): past it the request counts as a 504.
    rest_request_timeout: float = Field(default=60.0, gt=0)
    # The DM notification worker (bot.workers.notifier): its idle poll, the lease on claimed
    # notifications (a crashed worker's claims are taken over after it) and the bound on every
    # Discord request it makes.
    notify_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    notify_lease_seconds: float = Field(default=60.0, gt=0)
    notify_send_timeout: float = Field(default=15.0, gt=0)
    # Its pace (bot.workers.pacing): Discord requests at most in any window of a little over a
    # second (below the global 50; whole requests) and new DM channels opened per second
    # (Discord refuses them opened too fast: 40003).
    notify_dms_per_second: float = Field(default=48.0, ge=1, le=50)
    notify_dm_opens_per_second: float = Field(default=0.5, gt=0)
    # Reconciliation on a new session (bot.workers.reconciler): the questions it looks at (active
    # within the window), the Discord requests one run may make, and the bound on each.
    reconcile_window_days: int = Field(default=14, ge=1)
    reconcile_request_budget: int = Field(default=200, ge=1)
    reconcile_request_timeout: float = Field(default=15.0, gt=0)
    # ``qa-bot run --health-port``: /healthz and /metrics (bot.workers.health_server), off
    # when 0 or unset; the checks' grace for a shard reconnecting, the bound on the database's
    # answer and the outbox backlog that counts as unhealthy (bot.healthcheck).
    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "127.0.0.1"
    health_gateway_grace: float = Field(default=60.0, ge=0)
    health_database_timeout: float = Field(default=5.0, gt=0)
    health_outbox_backlog: int = Field(default=1000, ge=1)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            return [int(p) for p in parts] if parts else None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg:// (an async driver)"
            )
        return value

    @field_validator("discord_api_base_url", "discord_gateway_url")
    @classmethod
    def _check_http(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be an http(s):// or ws(s):// URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_shards(self) -> Settings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT to be set as well")
            bad = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if bad:
                raise ValueError(f"SHARD_IDS {bad} are outside 0..SHARD_COUNT-1")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'qa-bot.sqlite3').as_posix()}"

    def token(self) -> str:
        if self.discord_token is None or not self.discord_token.get_secret_value().strip():
            raise SettingsError(
                "DISCORD_TOKEN is not set: copy .env.example to .env and set DISCORD_TOKEN "
                "to your bot's token."
            )
        return self.discord_token.get_secret_value().strip()


def load_settings(**overrides: object) -> Settings:
    """Build the settings, turning a validation failure into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = "_".join(str(p) for p in first["loc"]).upper()
        msg = first["msg"].removeprefix("Value error, ")
        if not loc:
            raise SettingsError(f"Bad settings: {msg}.") from None
        raise SettingsError(f"Bad setting {loc}: {msg}.") from None
