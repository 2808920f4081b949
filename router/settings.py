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
from router.policy.locality import is_loopback_host

DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024
# `--db off` / `LLR_DB=off`: no audit store (Prometheus and live estimates stay).
DB_OFF = "off"


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """What one client may ask of the edge; each is an `LLR_*` variable
    (docs/operations.md lists them with what a client sees past them)."""

    # HTTP: one request line or header field, and the number of header fields
    # (aiohttp's parser; past either the answer is a 431).
    max_header_bytes: int = 8190
    max_headers: int = 128
    # A connection must send a complete request head within this long of
    # opening or of its previous answer (also the keep-alive idle timeout).
    idle_timeout_s: float = 15.0
    # ... and the whole body within this long of its head (else a 408).
    body_timeout_s: float = 30.0
    # Requests handled at once on /v1/*; past it up to `max_queued` wait up
    # to `queue_timeout_s` for a slot, the rest get a 503 with Retry-After.
    max_concurrent: int = 1024
    max_queued: int = 1024
    queue_timeout_s: float = 2.0
    # Decoded body: counts and the strings that travel into headers and rows.
    max_messages: int = 4096
    max_parts: int = 8192
    max_tools: int = 128
    max_model_chars: int = 256
    # SIGTERM: requests in flight get this long to finish; the rest then end
    # with a clean error (a 503 `shutting_down`, or an error event in a
    # stream) rather than a cut connection.
    shutdown_grace_s: float = 30.0


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
    # /metrics needs a key too (only with keys; /health and /ready stay open).
    protect_metrics: bool = False
    limits: Limits = msgspec.field(default_factory=lambda: Limits())


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


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected a number") from None
    if not 0 < value < 86_400:
        raise SystemExit(f"{name}={raw!r}: expected seconds between 0 and a day")
    return value


# Limit field -> its environment variable.
LIMIT_ENV = {name: "LLR_" + name.upper() for name in Limits.__struct_fields__}


def limits_from(env: Mapping[str, str]) -> Limits:
    """`LLR_MAX_HEADER_BYTES`, `LLR_IDLE_TIMEOUT_S`, ... over the defaults."""
    base = Limits()
    values: dict[str, float | int] = {}
    for name, var in LIMIT_ENV.items():
        default = getattr(base, name)
        if isinstance(default, float):
            values[name] = _float(env, var, default)
        else:
            values[name] = _int(env, var, default)
            if values[name] < (0 if name == "max_queued" else 1):
                raise SystemExit(f"{var}={values[name]}: expected at least 1")
    return Limits(**values)  # type: ignore[arg-type]


def api_keys_from(env: Mapping[str, str]) -> frozenset[str]:
    """`LLR_API_KEYS` (comma-separated) and `LLR_API_KEYS_FILE` (one key a
    line; blank lines and `#` comments skipped), together."""
    keys = {k.strip() for k in env.get("LLR_API_KEYS", "").split(",") if k.strip()}
    path = env.get("LLR_API_KEYS_FILE")
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SystemExit(f"LLR_API_KEYS_FILE={path}: {exc}") from None
        lines = (line.strip() for line in text.splitlines())
        from_file = {line for line in lines if line and not line.startswith("#")}
        if not from_file:
            raise SystemExit(f"LLR_API_KEYS_FILE={path}: no key in the file")
        keys |= from_file
    return frozenset(keys)


def _flag(env: Mapping[str, str], name: str) -> bool:
    return env.get(name, "").lower() in ("1", "true", "yes")


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
    s = Settings(
        policy=policy or default_policy_path(env),
        host=host or env.get("LLR_HOST") or "127.0.0.1",
        port=port if port is not None else _int(env, "LLR_PORT", 3030),
        db=db or env.get("LLR_DB") or "./metrics.db",
        workers=workers if workers is not None else _int(env, "LLR_WORKERS", 1),
        watch=watch if watch is not None else _flag(env, "LLR_WATCH"),
        max_body_bytes=(
            max_body_bytes
            if max_body_bytes is not None
            else _int(env, "LLR_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
        ),
        log_format=_choice(
            log_format or env.get("LLR_LOG_FORMAT") or "text", LOG_FORMATS, "log format"
        ),
        log_level=_choice(
            (log_level or env.get("LLR_LOG_LEVEL") or "info").lower(),
            LOG_LEVELS,
            "log level",
        ),
        api_keys=api_keys_from(env),
        protect_metrics=_flag(env, "LLR_PROTECT_METRICS"),
        limits=limits_from(env),
    )
    if not 0 <= s.port <= 65535:
        raise SystemExit(f"port {s.port}: expected 0..65535")
    if s.workers < 1:
        raise SystemExit(f"workers {s.workers}: expected at least 1")
    if s.max_body_bytes < 1024:
        raise SystemExit(f"max body {s.max_body_bytes} bytes: expected at least 1024")
    if s.protect_metrics and not s.api_keys:
        raise SystemExit(
            "LLR_PROTECT_METRICS=1 needs inbound keys (LLR_API_KEYS or "
            "LLR_API_KEYS_FILE)"
        )
    return s


def exposure_warning(s: Settings) -> str | None:
    """What to warn of when `s` serves beyond this machine without keys."""
    if s.api_keys or is_loopback_host(s.host):
        return None
    return (
        f"listening on {s.host} without inbound keys: anyone who can reach it "
        "can spend the backends' credentials; set LLR_API_KEYS or "
        "LLR_API_KEYS_FILE"
    )
