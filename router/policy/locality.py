"""Policy stage, locality: whether a backend endpoint or a model stays on this machine.

Endpoint in, a verdict out. Locality is checked, not trusted: an endpoint is
loopback only when the host aiohttp will connect to (parsed by yarl, as
aiohttp parses it, so `http://127.0.0.1@example.com` is example.com) is in
127.0.0.0/8, is ::1 (or an IPv4-mapped loopback) or is `localhost`. A model
name is a cloud model when Ollama would forward it to ollama.com: a `:cloud`
tag or a tag ending in `-cloud` (Ollama's `internal/modelref`), matched here
case-insensitively and also without a tag (`name-cloud`), which errs on the
side of not local. Models pulled from a remote host are found by the Ollama
adapter through `/api/show`.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any

from yarl import URL

# Hosted services that are never "this machine", whatever a policy says.
CLOUD_DOMAINS = ("ollama.com", "openai.com", "sarmalink.ai")
RESOLVE_TIMEOUT_S = 2.0

Resolver = Callable[[str], list[str]]


def endpoint_host(endpoint: str) -> str:
    """The host part of `endpoint` as aiohttp connects to it (lower case, no
    trailing dot, IPv6 without brackets); empty when there is none."""
    try:
        host = URL(endpoint).host
    except (ValueError, TypeError):
        return ""
    return (host or "").rstrip(".").lower()


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    addr = _address(host)
    if addr is None:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_loopback


def is_loopback(endpoint: str) -> bool:
    return is_loopback_host(endpoint_host(endpoint))


def cloud_domain(endpoint: str) -> str | None:
    """The hosted service `endpoint` belongs to (`ollama.com`, ...), or None."""
    host = endpoint_host(endpoint)
    for domain in CLOUD_DOMAINS:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


def is_cloud_model(name: str) -> bool:
    """Whether Ollama would run `name` on ollama.com rather than here."""
    return name.strip().lower().endswith((":cloud", "-cloud"))


def resolve(host: str) -> list[str]:
    """Every address `host` resolves to; empty when it does not resolve in
    time. Only `llm-router check` calls this (it is blocking I/O)."""
    infos: list[Any] = []

    def lookup() -> None:
        with contextlib.suppress(OSError, UnicodeError):
            infos.extend(socket.getaddrinfo(host, None))

    # A daemon thread: a resolver that hangs must not hold the command open.
    worker = threading.Thread(target=lookup, daemon=True)
    worker.start()
    worker.join(RESOLVE_TIMEOUT_S)
    return sorted({str(info[4][0]) for info in list(infos)})


def public_addresses(host: str, resolver: Resolver = resolve) -> list[str]:
    """The addresses of `host` that are globally routable (an IP literal is
    its own address; a name is resolved)."""
    addrs: Iterable[str] = [host] if _address(host) is not None else resolver(host)
    out = []
    for text in addrs:
        addr = _address(text)
        if addr is not None and addr.is_global:
            out.append(text)
    return out
