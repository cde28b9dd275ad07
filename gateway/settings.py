"""Runtime configuration, read once from the environment."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

DEFAULT_DATABASE = Path("data") / "gateway.sqlite3"

T = TypeVar("T")


class ConfigurationError(ValueError):
    """An environment variable holds a value the gateway cannot use; the message says which."""


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to start; see the README's Configuration section."""

    database: str = str(DEFAULT_DATABASE)
    admin_token: str | None = None
    production: bool = False
    max_skus: int = 500
    max_cart_lines: int = 500
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5000
    max_body_bytes: int = 8 * 1024 * 1024
    compact_interval: float = 300.0  # seconds between reservation compactions; 0 = never
    sqlite_synchronous: str = "FULL"  # or NORMAL: faster commits, may lose the last on power loss

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``GATEWAY_*`` variables; raises ConfigurationError naming a bad one."""
        env = os.environ if env is None else env

        def read(name: str, parse: Callable[[str], T], default: T,
                 valid: Callable[[T], bool], expected: str) -> T:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            problem = ConfigurationError(f"{name}={raw!r}: expected {expected}")
            try:
                value = parse(raw)
            except ValueError:
                raise problem from None
            if not valid(value):
                raise problem
            return value

        def positive(value: int) -> bool:
            return value > 0

        return cls(
            database=env.get("GATEWAY_DATABASE") or str(DEFAULT_DATABASE),
            admin_token=env.get("GATEWAY_ADMIN_TOKEN") or None,
            production=env.get("GATEWAY_ENV", "").lower() == "production",
            max_skus=read("GATEWAY_MAX_SKUS", int, cls.max_skus, positive, "a positive integer"),
            max_cart_lines=read("GATEWAY_MAX_CART_LINES", int, cls.max_cart_lines, positive,
                                "a positive integer"),
            max_body_bytes=read("GATEWAY_MAX_BODY_BYTES", int, cls.max_body_bytes, positive,
                                "a positive number of bytes"),
            compact_interval=read("GATEWAY_COMPACT_INTERVAL", float, cls.compact_interval,
                                  lambda v: math.isfinite(v) and v >= 0,
                                  "seconds (0 switches compaction off)"),
            sqlite_synchronous=read("GATEWAY_SQLITE_SYNCHRONOUS", str.upper,
                                    cls.sqlite_synchronous, lambda v: v in ("FULL", "NORMAL"),
                                    "FULL or NORMAL"),
        )
