"""Runtime configuration, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE = Path("data") / "gateway.sqlite3"


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
    def from_env(cls, **overrides: object) -> Settings:
        env = os.environ
        values: dict[str, object] = {
            "database": env.get("GATEWAY_DATABASE") or str(DEFAULT_DATABASE),
            "admin_token": env.get("GATEWAY_ADMIN_TOKEN") or None,
            "production": env.get("GATEWAY_ENV", "").lower() == "production",
            "max_skus": int(env.get("GATEWAY_MAX_SKUS", cls.max_skus)),
            "max_cart_lines": int(env.get("GATEWAY_MAX_CART_LINES", cls.max_cart_lines)),
            "max_body_bytes": int(env.get("GATEWAY_MAX_BODY_BYTES", cls.max_body_bytes)),
            "sqlite_synchronous": env.get("GATEWAY_SQLITE_SYNCHRONOUS", cls.sqlite_synchronous),
            "compact_interval": float(env.get("GATEWAY_COMPACT_INTERVAL",
                                              cls.compact_interval)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
