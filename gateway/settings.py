"""Runtime configuration: the only reader of the environment (``GATEWAY_*`` variables).

:meth:`Settings.from_env` reads the environment once at startup (pydantic-settings) and refuses
a bad value with a message naming the variable; everything else receives a ``Settings``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from gateway.store.url import DatabaseUrl, parse_database_url

DEFAULT_DATABASE = Path("data") / "gateway.sqlite3"

PositiveInt = Annotated[int, Field(gt=0)]
PositiveSeconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]


class ConfigurationError(ValueError):
    """A setting holds a value the gateway cannot use; the message says which and why."""


#: What each variable expects, for the refusal message.
_EXPECTED = {
    "database": "a file path, sqlite:///path or postgresql://user@host/db",
    "admin_token": "a token without surrounding whitespace",
    "env": "production or development",
    "max_skus": "a positive integer",
    "max_cart_lines": "a positive integer",
    "max_depth": "a positive integer",
    "max_aliases": "a positive integer",
    "max_tokens": "a positive integer",
    "max_body_bytes": "a positive number of bytes",
    "compact_interval": "seconds (0 switches compaction off)",
    "sqlite_synchronous": "FULL or NORMAL",
    "log_level": "debug, info, warning or error",
    "log_format": "text or json",
    "access_log": "1 (on) or 0 (off)",
    "metrics_dir": "an existing directory",
    "max_public_body_bytes": "a positive number of bytes",
    "max_cost": "a positive integer",
    "max_back_office_cost": "a positive integer",
    "max_connections": "a positive integer",
    "header_timeout": "a positive number of seconds",
    "body_timeout": "a positive number of seconds",
    "keepalive_timeout": "a positive number of seconds",
    "refusal_log_interval": "a positive number of seconds",
    "live_poll_interval": "seconds between change-feed polls (more than 0, at most 60)",
    "live_max_subscriptions": "a positive integer",
    "live_max_skus": "a positive integer",
    "ws_allowed_origins": "comma-separated origins like https://shop.example.com, or *",
    "postgres_pool_size": "a positive integer",
    "postgres_poll_interval": "a positive number of seconds",
}


#: Command-line options named apart from their setting.
_FLAGS = {"database": "db"}


class Settings(BaseSettings):
    """Everything the gateway needs to start; see the README's Configuration section.

    Each field ``name`` is read from ``GATEWAY_<NAME>``; an empty variable means the default.
    Immutable, and picklable (worker processes receive it from the ``gateway`` command).
    """

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", env_ignore_empty=True,
                                      frozen=True, extra="forbid")

    database: str = str(DEFAULT_DATABASE)
    admin_token: str | None = Field(default=None, repr=False)  # never in logs or reprs
    env: Literal["development", "production"] = "development"
    max_skus: PositiveInt = 500
    max_cart_lines: PositiveInt = 500
    max_depth: PositiveInt = 10
    max_aliases: PositiveInt = 30
    max_tokens: PositiveInt = 5000
    max_body_bytes: PositiveInt = 8 * 1024 * 1024
    compact_interval: float = 300.0  # seconds between reservation compactions; 0 = never
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    access_log: bool = False  # one log line per request
    #: Where worker processes write their metrics (``gateway serve`` makes a private one).
    metrics_dir: str | None = None

    # The edge (README "Security"): request bodies, query cost, connections.
    max_public_body_bytes: PositiveInt = 256 * 1024  # without the back-office token
    max_cost: PositiveInt = 2000  # query cost limit without the token
    max_back_office_cost: PositiveInt = 50_000  # with the token
    max_connections: PositiveInt = 1000  # open connections per worker process
    header_timeout: PositiveSeconds = 10.0  # to send a complete request head
    body_timeout: PositiveSeconds = 30.0  # to send the body, once the head is in
    keepalive_timeout: PositiveSeconds = 5.0  # idle keep-alive connection
    refusal_log_interval: PositiveSeconds = 10.0  # at most one log line per interval
    live_poll_interval: float = 0.15  # seconds between change-feed polls while someone watches
    live_max_subscriptions: PositiveInt = 10  # per WebSocket connection
    live_max_skus: PositiveInt = 100  # per availabilityChanged subscription
    # Browser origins allowed to open the WebSocket besides the gateway's own ("*": any).
    ws_allowed_origins: Annotated[tuple[str, ...], NoDecode] = ()

    # PostgreSQL (README "PostgreSQL").
    postgres_pool_size: PositiveInt = 10  # connections per process
    postgres_poll_interval: PositiveSeconds = 1.0  # data-version poll, behind the NOTIFY hint

    @property
    def database_url(self) -> DatabaseUrl:
        """What ``database`` names (validated when the settings were made)."""
        return parse_database_url(self.database)

    @property
    def production(self) -> bool:
        """Production mode: no GraphiQL, no introspection, no field suggestions."""
        return self.env == "production"

    @field_validator("database")
    @classmethod
    def _database(cls, value: str) -> str:
        parse_database_url(value)  # refuses unknown schemes before anything opens a file
        return value

    @field_validator("metrics_dir")
    @classmethod
    def _directory(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_dir():
            raise ValueError("is not a directory")
        return value

    @field_validator("env", "log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("admin_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        # A token pasted with a newline could never match: HTTP strips header values.
        if value is not None and value != value.strip():
            raise ValueError("has surrounding whitespace")
        return value or None

    @field_validator("compact_interval")
    @classmethod
    def _interval(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0:
            raise ValueError("must be a finite number of seconds, 0 or more")
        return value

    @field_validator("live_poll_interval")
    @classmethod
    def _poll(cls, value: float) -> float:
        if not math.isfinite(value) or not 0 < value <= 60:
            raise ValueError("must be more than 0 and at most 60 seconds")
        return value

    @field_validator("ws_allowed_origins", mode="before")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        for origin in value:
            if origin != "*" and not _is_origin(origin):
                raise ValueError(f"{origin!r} is not an origin")
        return tuple(value)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Settings from ``GATEWAY_*`` variables, with ``overrides`` (command-line options,
        None meaning "not given") taking precedence. Raises ConfigurationError naming every
        bad variable."""
        given = {name: value for name, value in overrides.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ConfigurationError(_explain(exc, given)) from None


def _explain(exc: ValidationError, given: dict[str, Any]) -> str:
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else "?"
        shown = repr(error.get("input"))
        if name == "admin_token":
            shown = "(hidden)"  # never print a secret
        flag = _FLAGS.get(name, name.replace("_", "-"))
        where = f"--{flag}" if name in given else f"GATEWAY_{name.upper()}"
        detail = error["msg"].removeprefix("Value error, ") \
            if error["type"] == "value_error" else None
        expected = f"expected {_EXPECTED.get(name, error['msg'])}"
        lines.append(f"{where}={shown}: {detail or expected}")
    return "; ".join(lines)


def _is_origin(value: str) -> bool:
    """scheme://host[:port] and nothing more (what a browser sends in ``Origin``)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        return False
    return (parts.scheme in ("http", "https") and bool(parts.hostname)
            and parts.path in ("", "/") and not parts.query and not parts.fragment
            and not parts.username)
