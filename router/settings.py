"""Server settings: command-line flags over `LLR_*` environment variables.

Resolved once at start-up into a frozen `Settings`; nothing reads the
environment after that.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from router.logs import LOG_FORMATS, LOG_LEVELS, LogFormat

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
# `--db off` / `LLR_DB=off`: no audit store (Prometheus and live estimates stay).
DB_OFF = "off"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    policy: str
    host: str = "127.0.0.1"
    port: int = 3030
    db: str = "./metrics.db"
    workers: int = 1
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Reload the policy when its file changes (polled once a second).
    watch: bool = False
    # Inbound bearer keys; empty means the router does not authenticate.
    api_keys: frozenset[str] = frozenset()
    log_format: LogFormat = "text"
    log_level: str = "info"


def default_policy_path(env: Mapping[str, str]) -> str:
    """`LLR_POLICY`, else ./policy.yaml, else ./policy.example.yaml."""
    explicit = env.get("LLR_POLICY")
    if explicit:
        return explicit
    if Path("policy.yaml").exists():
        return "policy.yaml"
    return "policy.example.yaml"


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected an integer") from None


def _choice(value: str, allowed: tuple[str, ...], what: str) -> Any:
    if value not in allowed:
        raise SystemExit(f"{what} {value!r}: expected one of {', '.join(allowed)}")
    return value


def settings_from(
    env: Mapping[str, str] = os.environ,
    *,
    policy: str | None = None,
    host: str | None = None,
    port: int | None = None,
    db: str | None = None,
    workers: int | None = None,
    max_body_bytes: int | None = None,
    watch: bool | None = None,
    log_format: str | None = None,
    log_level: str | None = None,
) -> Settings:
    keys = frozenset(
        k.strip() for k in env.get("LLR_API_KEYS", "").split(",") if k.strip()
    )
    s = Settings(
        policy=policy or default_policy_path(env),
        host=host or env.get("LLR_HOST") or "127.0.0.1",
        port=port if port is not None else _int(env, "LLR_PORT", 3030),
        db=db or env.get("LLR_DB") or "./metrics.db",
        workers=workers if workers is not None else _int(env, "LLR_WORKERS", 1),
        watch=watch if watch is not None else env.get("LLR_WATCH", "") in ("1", "true"),
        max_body_bytes=(
            max_body_bytes
            if max_body_bytes is not None
            else _int(env, "LLR_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
        ),
        api_keys=keys,
        log_format=_choice(
            log_format or env.get("LLR_LOG_FORMAT") or "text", LOG_FORMATS, "log format"
        ),
        log_level=_choice(
            (log_level or env.get("LLR_LOG_LEVEL") or "info").lower(),
            LOG_LEVELS,
            "log level",
        ),
    )
    if not 0 <= s.port <= 65535:
        raise SystemExit(f"port {s.port}: expected 0..65535")
    if s.workers < 1:
        raise SystemExit(f"workers {s.workers}: expected at least 1")
    if s.max_body_bytes < 1024:
        raise SystemExit(f"max body {s.max_body_bytes} bytes: expected at least 1024")
    return s
