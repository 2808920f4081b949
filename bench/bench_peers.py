"""The router against other gateways, in one run, in front of the same fake
upstream, on loopback only (opt-in: `make bench-peers`, not in `make bench`).

Peers are installed into a cache folder outside the repo
($LLR_PEERS_CACHE, default ~/.cache/local-llm-router/peers), once:
  tensorzero  PyPI `tensorzero` in its own venv; its wheel embeds the Rust
              gateway, started with `tensorzero._start_http_gateway(...)`
              with no ClickHouse, Postgres or Valkey, observability off and
              pseudonymous usage analytics off;
  portkey     npm `@portkey-ai/gateway` 1.15.2 (with `@hono/node-server`
              overridden to 1.14.1, which its streaming needs), headless,
              `x-portkey-provider: openai` + `x-portkey-custom-host`;
  litellm     PyPI `litellm[proxy]` in its own venv, 1 worker, a master key,
              the local cost map (LITELLM_LOCAL_MODEL_COST_MAP=True) and
              telemetry off;
beside the router (`--workers 2`, metrics on), the floor (bench/floor.py)
and the fake alone (`direct`, for the overhead). A peer that will not
install or start is skipped with a line saying why. Every peer is given
HTTP(S)_PROXY pointing at a closed loopback port (NO_PROXY for 127.0.0.1),
so a library that tried to reach anything off the machine would fail here.

Measures, in interleaved rounds: load50 (50 connections, closed loop, wrk
when installed) and seq (1 connection, overhead vs direct), for the same
1 KB chat request. Results are appended to bench/results/peers.jsonl;
bench_load.py reads TensorZero's req/s from its last run.

    python bench/bench_peers.py [--duration 10] [--rounds 2] [--quick]
        [--only tensorzero,portkey,litellm] [--no-install]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from benchmeta import append, stamp
from loadkit import (
    BENCH,
    HOST,
    ROOT,
    Server,
    bodies,
    chat,
    closed_load,
    foreign_sockets,
    free_port,
    probe,
    raise_fd_limit,
    run_builtin,
    uncommitted,
    wrk_version,
)
from loadreport import Rows, fmt, ratio, tables

RESULTS = ROOT / "bench" / "results" / "peers.jsonl"
CACHE = Path(
    os.environ.get("LLR_PEERS_CACHE", "~/.cache/local-llm-router/peers")
).expanduser()
PEERS = ("tensorzero", "portkey", "litellm")
ORDER = ("direct", "floor", "router-2", *PEERS)
PORTKEY = "1.15.2"
HONO_NODE_SERVER = "1.14.1"
MASTER_KEY = "sk-bench-local"
DEAD_PROXY = "http://127.0.0.1:9"  # discard port: nothing listens
CHAT = "/v1/chat/completions"

POLICY = """
backends:
  cloud: {{type: openai, endpoint: "http://127.0.0.1:{port}/v1", model: gpt-4o,
           p50Ms: 100}}
routes:
  - default: cloud
"""

TENSORZERO_TOML = """
[gateway]
observability.enabled = false
disable_pseudonymous_usage_analytics = true

[models.fake]
routing = ["fake"]

[models.fake.providers.fake]
type = "openai"
model_name = "gpt-4o"
api_base = "http://127.0.0.1:{port}/v1/"
api_key_location = "none"
"""

TENSORZERO_LAUNCH = """
import signal, sys, tensorzero
gateway = tensorzero._start_http_gateway(
    config_file=sys.argv[1], clickhouse_url=None, postgres_url=None,
    valkey_url=None, async_setup=False,
)
print("BASE_URL", gateway.base_url, flush=True)
signal.sigwait({signal.SIGTERM, signal.SIGINT})
gateway.close()
"""

LITELLM_YAML = """
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: http://127.0.0.1:{port}/v1
      api_key: bench
litellm_settings:
  telemetry: false
  drop_params: true
general_settings:
  master_key: {key}
"""


@dataclass
class Target:
    """Where one target listens and what it is sent."""

    name: str
    server: Server
    port: int
    path: str
    body: Path
    headers: dict[str, str]
    version: str


def run(cmd: list[str], log: Path, timeout: float, **kw: Any) -> bool:
    with log.open("ab") as fh:
        try:
            done = subprocess.run(
                cmd, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, **kw
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            fh.write(f"\n{exc}\n".encode())
            return False
    return done.returncode == 0


def tail(log: Path, n: int = 300) -> str:
    try:
        return log.read_bytes()[-n:].decode(errors="replace").strip()
    except OSError:
        return ""


def venv_with(name: str, spec: str, module: str, log: Path) -> tuple[Path | None, str]:
    """A venv under the cache with `spec` pip-installed: (its python, version)
    or (None, why not)."""
    venv = CACHE / f"{name}-venv"
    py = venv / "bin" / "python"
    check = [
        str(py),
        "-c",
        f"import importlib.metadata as m; print(m.version({module!r}))",
    ]
    if not py.exists() and not run([sys.executable, "-m", "venv", str(venv)], log, 300):
        return None, f"venv failed: {tail(log)}"
    got = subprocess.run(check, capture_output=True, text=True)
    if got.returncode != 0:
        if not run([str(py), "-m", "pip", "install", "--quiet", spec], log, 1500):
            return None, f"pip install {spec} failed: {tail(log)}"
        got = subprocess.run(check, capture_output=True, text=True)
    if got.returncode != 0:
        return None, f"{module} not importable after install: {got.stderr[-300:]}"
    return py, got.stdout.strip()


def install_portkey(log: Path) -> tuple[Path | None, str]:
    folder = CACHE / "portkey"
    entry = (
        folder
        / "node_modules"
        / "@portkey-ai"
        / "gateway"
        / "build"
        / "start-server.js"
    )
    if not entry.exists():
        if not run(["npm", "--version"], log, 60):
            return None, "npm is not installed"
        folder.mkdir(parents=True, exist_ok=True)
        package = {
            "name": "llr-bench-portkey",
            "private": True,
            "version": "0.0.0",
            "dependencies": {"@portkey-ai/gateway": PORTKEY},
            "overrides": {"@hono/node-server": HONO_NODE_SERVER},
        }
        (folder / "package.json").write_bytes(msgspec.json.encode(package))
        cmd = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
        if not run(cmd, log, 900, cwd=folder) or not entry.exists():
            return None, f"npm install failed: {tail(log)}"
    return entry, PORTKEY


def peer_env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().endswith(("_PROXY", "_API_KEY"))
    }
    return env | {
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


class Peers:
    """The fake, the floor, router-2 and the peers that installed and started."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.targets: dict[str, Target] = {}
        self.skipped: dict[str, str] = {}
        self.fake: Server | None = None
        self.turns = bodies()["1k"]
        self.watch = Watch()

    def spawn(self, *args: Any, **kw: Any) -> Server:
        server = Server(*args, **kw)
        self.watch.servers.append(server)
        return server

    def body(self, name: str, model: str) -> Path:
        path = self.tmp / f"{name}.json"
        path.write_bytes(msgspec.json.encode(chat(model, self.turns)))
        return path

    def add(
        self,
        name: str,
        server: Server,
        path: str,
        model: str,
        headers: dict[str, str],
        version: str,
        wait_path: str | None = None,
    ) -> None:
        try:
            server.wait_up(self.args.start_timeout, path=wait_path)
            target = Target(
                name,
                server,
                server.port,
                path,
                self.body(name, model),
                headers,
                version,
            )
            got = probe(target.port, path, target.body.read_bytes(), headers)
            if got["status"] != 200:
                raise RuntimeError(f"HTTP {got['status']}: {got['head'][:200]!r}")
        except (RuntimeError, OSError) as exc:
            server.stop()
            self.skipped[name] = f"did not start or answer: {str(exc)[-400:]}"
            return
        self.targets[name] = target

    def start(self, peers: list[str]) -> None:
        py = sys.executable
        env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": "bench"}
        port = free_port()
        self.fake = self.spawn(
            "fake",
            [py, str(BENCH / "fake_upstream.py"), "--port", str(port), "--no-record"],
            port,
            self.tmp / "fake.log",
            env,
        )
        self.fake.wait_up(30)
        self.targets["direct"] = Target(
            "direct",
            self.fake,
            port,
            CHAT,
            self.body("direct", "gpt-4o"),
            {},
            "fake_upstream",
        )
        upstream = f"http://{HOST}:{port}"
        p = free_port()
        floor = self.spawn(
            "floor",
            [py, str(BENCH / "floor.py"), "--port", str(p), "--upstream", upstream],
            p,
            self.tmp / "floor.log",
            env,
        )
        self.add("floor", floor, CHAT, "gpt-4o", {}, "bench/floor.py")
        policy = self.tmp / "policy.yaml"
        policy.write_text(POLICY.format(port=port))
        p = free_port()
        cmd = [
            py,
            "-m",
            "router",
            "serve",
            "--policy",
            str(policy),
            "--port",
            str(p),
            "--workers",
            "2",
            "--db",
            str(self.tmp / "router.db"),
        ]
        router = self.spawn(
            "router-2", cmd, p, self.tmp / "router.log", env, cwd=self.tmp
        )
        self.add(
            "router-2",
            router,
            CHAT,
            "gpt-4o",
            {},
            "local-llm-router",
            wait_path="/health",
        )
        for name in peers:
            progress(f"installing/starting {name}")
            getattr(self, f"start_{name}")(port)

    def start_tensorzero(self, fake_port: int) -> None:
        log = self.tmp / "tensorzero.log"
        py, version = (None, "not installed (--no-install)")
        if not self.args.no_install or (CACHE / "tensorzero-venv").exists():
            py, version = venv_with("tensorzero", "tensorzero", "tensorzero", log)
        if py is None:
            self.skipped["tensorzero"] = version
            return
        config = self.tmp / "tensorzero.toml"
        config.write_text(TENSORZERO_TOML.format(port=fake_port))
        launch = self.tmp / "tensorzero_launch.py"
        launch.write_text(TENSORZERO_LAUNCH)
        env = peer_env() | {
            "TENSORZERO_DISABLE_PSEUDONYMOUS_USAGE_ANALYTICS": "1",
            "TENSORZERO_HOWDY_URL": DEAD_PROXY,
            "RUST_LOG": "warn",
        }
        server = self.spawn(
            "tensorzero", [str(py), str(launch), str(config)], 0, log, env, cwd=self.tmp
        )
        base = wait_for_line(
            server, r"BASE_URL (http://[^\s]+)", self.args.start_timeout
        )
        if base is None:
            server.stop()
            self.skipped["tensorzero"] = f"gateway did not start: {tail(log)}"
            return
        m = re.match(r"http://([^:/]+):(\d+)(/.*)?$", base)
        if m is None or not m[1].startswith(("127.", "localhost")):
            server.stop()
            self.skipped["tensorzero"] = f"gateway not on loopback: {base}"
            return
        server.port = int(m[2])
        prefix = (m[3] or "").rstrip("/")
        if not prefix.endswith("/openai/v1"):
            prefix += "/openai/v1"
        self.add(
            "tensorzero",
            server,
            prefix + "/chat/completions",
            "tensorzero::model_name::fake",
            {},
            f"tensorzero {version}",
        )

    def start_portkey(self, fake_port: int) -> None:
        log = self.tmp / "portkey.log"
        entry, version = (
            install_portkey(log)
            if not self.args.no_install
            else (None, "not installed (--no-install)")
        )
        if entry is None and self.args.no_install:
            cached = (
                CACHE
                / "portkey"
                / "node_modules"
                / "@portkey-ai"
                / "gateway"
                / "build"
                / "start-server.js"
            )
            entry, version = (cached, PORTKEY) if cached.exists() else (None, version)
        if entry is None:
            self.skipped["portkey"] = version
            return
        p = free_port()
        env = peer_env() | {"NODE_ENV": "production"}
        server = self.spawn(
            "portkey",
            ["node", str(entry), f"--port={p}", "--headless"],
            p,
            log,
            env,
            cwd=CACHE / "portkey",
        )
        headers = {
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": f"http://{HOST}:{fake_port}/v1",
            "Authorization": "Bearer bench",
        }
        self.add(
            "portkey", server, CHAT, "gpt-4o", headers, f"@portkey-ai/gateway {version}"
        )

    def start_litellm(self, fake_port: int) -> None:
        log = self.tmp / "litellm.log"
        py, version = (None, "not installed (--no-install)")
        if not self.args.no_install or (CACHE / "litellm-venv").exists():
            py, version = venv_with("litellm", "litellm[proxy]", "litellm", log)
        if py is None:
            self.skipped["litellm"] = version
            return
        config = self.tmp / "litellm.yaml"
        config.write_text(LITELLM_YAML.format(port=fake_port, key=MASTER_KEY))
        p = free_port()
        exe = py.parent / "litellm"
        cmd = [
            str(exe),
            "--config",
            str(config),
            "--host",
            HOST,
            "--port",
            str(p),
            "--num_workers",
            "1",
        ]
        env = peer_env() | {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "LITELLM_TELEMETRY": "False",
            "LITELLM_LOG": "ERROR",
            "DISABLE_SCHEMA_UPDATE": "true",
        }
        server = self.spawn("litellm", cmd, p, log, env, cwd=self.tmp)
        self.add(
            "litellm",
            server,
            CHAT,
            "gpt-4o",
            {"Authorization": f"Bearer {MASTER_KEY}"},
            f"litellm {version}",
            wait_path="/health/liveliness",
        )

    def stop(self) -> None:
        for t in self.targets.values():
            if t.server is not self.fake:
                t.server.stop()
        if self.fake is not None:
            self.fake.stop()


class Watch:
    """Every 0.2 s, the off-machine sockets of every server started so far
    (the peers are meant to talk to loopback only: any address is reported)."""

    def __init__(self) -> None:
        self.servers: list[Server] = []
        self.seen: dict[str, set[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for server in list(self.servers):
                found = foreign_sockets(server.pids())
                if found:
                    self.seen.setdefault(server.name, set()).update(found)

    def __enter__(self) -> Watch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_for_line(server: Server, pattern: str, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, tail(server.log, 4000))
        if m:
            return m[1]
        if server.proc.poll() is not None:
            return None
        time.sleep(0.2)
    return None


def progress(text: str) -> None:
    sys.stderr.write(f"{text}\n")
    sys.stderr.flush()


def measure(peers: Peers, args: argparse.Namespace, gen: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    names = list(peers.targets)
    fake_pids = peers.fake.pids if peers.fake is not None else list

    def load50(t: Target) -> dict[str, Any]:
        return closed_load(
            t.port, t.path, t.body, t.headers, 50, gen, args, t.server.pids, fake_pids
        )

    def seq(t: Target) -> dict[str, Any]:
        d, w = args.duration / 2, args.warmup
        r = run_builtin(t.port, t.path, t.body, t.headers, "closed", 1, d, warmup=w)
        return r | {"generator": "builtin"}

    steps: list[tuple[str, Callable[[Target], dict[str, Any]]]] = [
        ("load50", load50),
        ("seq", seq),
    ]
    total, done = args.rounds * len(steps) * len(names), 0
    for rnd in range(1, args.rounds + 1):
        k = (rnd - 1) % len(names)
        for measure_name, step in steps:
            for name in names[k:] + names[:k]:
                done += 1
                progress(
                    f"[{done}/{total}] round {rnd}/{args.rounds} {measure_name} {name}"
                )
                t = peers.targets[name]
                where = {
                    "round": rnd,
                    "measure": measure_name,
                    "scenario": "chat-1k",
                    "target": name,
                    "version": t.version,
                }
                try:
                    rows.append(where | step(t))
                except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                    rows.append(where | {"failed": str(exc)[-400:]})
                    progress(f"  failed: {exc}")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", default=",".join(PEERS), help="peers, comma list")
    ap.add_argument("--no-install", action="store_true", help="use the cache only")
    ap.add_argument("--start-timeout", type=float, default=90.0)
    ap.add_argument("--no-append", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.rounds = 2.0, 0.5, 1
    peers_wanted = [p.strip() for p in args.only.split(",") if p.strip()]
    if unknown := set(peers_wanted) - set(PEERS):
        ap.error(f"unknown peers {sorted(unknown)}; known: {', '.join(PEERS)}")
    wrk = wrk_version()
    gen = "wrk" if wrk else "builtin"
    raise_fd_limit()
    CACHE.mkdir(parents=True, exist_ok=True)
    meta = {**stamp(), "run": "", "uncommitted": uncommitted()}
    meta["run"] = meta["date"]
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as tmp:
        peers = Peers(args, Path(tmp))
        rows: list[dict[str, Any]] = []
        try:
            with peers.watch:
                peers.start(peers_wanted)
                for name, why in peers.skipped.items():
                    print(f"skipped {name}: {why}")
                rows = measure(peers, args, gen)
        finally:
            peers.stop()
    off = {k: sorted(v) for k, v in peers.watch.seen.items()}
    good = [r for r in rows if "failed" not in r]
    meta |= {
        "wrk": wrk,
        "load50_generator": gen,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "quick": args.quick,
    }
    skipped = [
        {"measure": "skipped", "scenario": "", "target": n, "why": w}
        for n, w in peers.skipped.items()
    ]
    meta["off_machine_sockets"] = off
    if not args.no_append:
        append(RESULTS, [{**meta, **r} for r in [*rows, *skipped]])
    print(
        f"peers: {args.rounds} round(s), {args.duration:g} s per load50 run;"
        f" {meta['cpu']}, commit {meta['commit'][:10]}, {meta['date']}"
    )
    if meta["uncommitted"]:
        print(f"uncommitted router changes measured too: {meta['uncommitted']}")
    print(
        "load50 via "
        + (f"wrk ({wrk}, 1 thread)" if gen == "wrk" else "bench/loadgen.py")
        + "; seq via bench/loadgen.py"
    )
    for name, t in peers.targets.items():
        print(f"  {name}: {t.version}")
    print(tables(good, ORDER))
    rs = Rows(good, ORDER)
    r2 = rs.paired("load50", "chat-1k", "router-2", "tensorzero", ratio("rps"))
    print(
        f"\nrouter-2 req/s vs TensorZero's (same round): {fmt(r2)}x"
        + ("" if r2 is not None else " (TensorZero not measured)")
    )
    for name, why in peers.skipped.items():
        print(f"skipped {name}: {why}")
    for r in rows:
        if "failed" in r:
            print(f"failed: {r['measure']} {r['target']}: {r['failed']}")
    if off:
        print(f"WARNING: sockets to addresses off this machine: {off}")
    else:
        print("no process of the run had a socket to any address off this machine")
    return 1 if off else 0


if __name__ == "__main__":
    sys.exit(main())
