"""What bench_load.py and bench_peers.py share: servers started as their own
process groups on loopback (and always stopped), the request bodies, /proc
readings (RSS, CPU) of a process tree, and one load run through wrk or the
built-in generator (bench/loadgen.py), each its own process."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def uncommitted() -> list[str]:
    """Files of the router that differ from the commit a result line names
    (the line then measured more than that commit)."""
    done = subprocess.run(
        ["git", "status", "--porcelain", "--", "router", "classifier_ext"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return [line[3:] for line in done.stdout.splitlines() if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Server:
    """One server process (and whatever it forks) in its own process group,
    its output in a log file; `stop` ends the group, SIGKILL if it lingers."""

    def __init__(
        self,
        name: str,
        cmd: Sequence[str],
        port: int,
        log: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name, self.port, self.log = name, port, log
        self._fh = log.open("ab")
        self.proc = subprocess.Popen(
            list(cmd),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_up(self, timeout: float = 30.0, path: str | None = None) -> None:
        """Until the port accepts (and `path`, when given, answers any status)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5) as s:
                    if path is None:
                        return
                    s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                    s.settimeout(2.0)
                    if s.recv(16).startswith(b"HTTP/1."):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: nothing on port {self.port}: {self.tail()}")

    def pids(self) -> list[int]:
        return tree_pids(self.proc.pid)

    def tail(self, n: int = 1200) -> str:
        try:
            return self.log.read_bytes()[-n:].decode(errors="replace").strip()
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        # Whatever it forked and left behind in its group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._fh.close()


def tree_pids(root: int) -> list[int]:
    """`root` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def rss_bytes(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def _address(hexaddr: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return ipaddress.IPv4Address(raw[::-1])
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    v6 = ipaddress.IPv6Address(words)
    return v6.ipv4_mapped or v6


def _inodes(pids: Sequence[int]) -> set[str]:
    """The socket inodes open in `pids`."""
    inodes: set[str] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.scandir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(fd.path)
                    if link.startswith("socket:["):
                        inodes.add(link[8:-1])
    return inodes


def foreign_sockets(pids: Sequence[int]) -> set[str]:
    """Remote addresses off this machine that any of `pids` has a TCP or UDP
    socket to (from /proc/net): a guard that a peer talks to loopback only."""
    inodes = _inodes(pids)
    found: set[str] = set()
    if not inodes:
        return found
    for table in ("tcp", "tcp6", "udp", "udp6"):
        with contextlib.suppress(OSError):
            for line in (
                Path(f"/proc/{pids[0]}/net/{table}").read_text().splitlines()[1:]
            ):
                f = line.split()
                if len(f) < 10 or f[9] not in inodes:
                    continue
                addr, port = f[2].split(":")
                ip = _address(addr)
                if not (ip.is_loopback or ip.is_unspecified):
                    found.add(f"{table} {ip}:{int(port, 16)}")
    return found


def connections(pids: Sequence[int], port: int) -> int:
    """Established TCP connections of `pids` with `port` at either end (for
    the fake itself: its clients; for a proxy: its connections upstream)."""
    inodes = _inodes(pids)
    n = 0
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
                f = line.split()
                if f[3] != "01" or f[9] not in inodes:
                    continue
                ends = (f[1].rsplit(":", 1)[1], f[2].rsplit(":", 1)[1])
                n += port in (int(ends[0], 16), int(ends[1], 16))
    return n


# --- request bodies ----------------------------------------------------------

WORDS = [
    "the",
    "a",
    "river",
    "quiet",
    "morning",
    "market",
    "library",
    "garden",
    "letter",
    "window",
    "evening",
    "story",
    "travel",
    "harbour",
    "mountain",
    "village",
    "teacher",
    "music",
    "painting",
    "kitchen",
    "bridge",
    "season",
    "lantern",
    "orchard",
    "meadow",
    "journey",
    "careful",
    "gentle",
    "bright",
    "ancient",
    "narrow",
    "wide",
    "slowly",
    "often",
    "never",
    "always",
    "because",
    "while",
    "after",
    "before",
    "under",
    "across",
    "toward",
    "around",
    "describe",
    "explain",
    "consider",
    "remember",
    "imagine",
    "wander",
    "gather",
    "follow",
    "notice",
]

CODE = '''```python
def merge_intervals(items):
    """Merge overlapping intervals given as (start, end) pairs."""
    ordered = sorted(items, key=lambda pair: pair[0])
    merged = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class LruCache:
    def __init__(self, capacity):
        self.capacity = capacity
        self.data = {}

    def get(self, key):
        if key not in self.data:
            return None
        value = self.data.pop(key)
        self.data[key] = value
        return value
```
'''

TRACE = """Traceback (most recent call last):
  File "app/worker.py", line 88, in run
    result = merge_intervals(batch)
  File "app/intervals.py", line 12, in merge_intervals
    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
TypeError: '>' not supported between instances of 'str' and 'int'
"""


def prose(rng: random.Random, n: int) -> str:
    out: list[str] = []
    size = 0
    while size < n:
        sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16)))
        sentence = sentence.capitalize() + ". "
        out.append(sentence)
        size += len(sentence)
    return "".join(out)[:n].rstrip() + "."


def chat(model: str, turns: list[tuple[str, str]], stream: bool = False) -> dict:
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": r, "content": c} for r, c in turns],
    }
    if stream:
        body["stream"] = True
    return body


def conversation(size: int, code: bool, seed: int) -> list[tuple[str, str]]:
    """Alternating user/assistant turns until about `size` bytes of JSON."""
    rng = random.Random(seed)
    turns = [("system", "You are a careful assistant. " + prose(rng, 200))]
    total = 260
    while total < size - 400:
        if code:
            text = prose(rng, 150) + "\n\n" + CODE
            if rng.random() < 0.4:
                text += "\nIt fails with:\n" + TRACE
        else:
            text = prose(rng, 900)
        role = "user" if len(turns) % 2 else "assistant"
        turns.append((role, text))
        total += len(msgspec.json.encode(text)) + 40
    if turns[-1][0] != "user":
        turns.append(("user", "Please go on. " + prose(rng, 300)))
    else:
        turns[-1] = ("user", turns[-1][1])
    return turns


def bodies() -> dict[str, list[tuple[str, str]]]:
    """The conversations: 1 KB, 32 KB prose, 32 KB code, and the stream's (its
    last user turn is 194 characters, so that with `--pieces 50` the fake's
    echo of it is cut into exactly 50 content chunks)."""
    rng = random.Random(13)
    one_k = [
        ("system", "You are a helpful assistant. " + prose(rng, 300)),
        ("user", "Summarise this for a friend. " + prose(rng, 560)),
    ]
    stream = [
        ("system", "You are a helpful assistant. " + prose(rng, 700)),
        ("user", ("Tell me a story. " + prose(rng, 400))[:193] + "?"),
    ]
    return {
        "1k": one_k,
        "prose-32k": conversation(32 * 1024, code=False, seed=1),
        "code-32k": conversation(32 * 1024, code=True, seed=2),
        "stream": stream,
    }


def ollama_body(turns: list[tuple[str, str]], model: str, stream: bool) -> dict:
    """What the router sends an Ollama backend for `turns`, near enough: the
    direct and floor paths do the same upstream work."""
    body = chat(model, turns)
    body["stream"] = stream
    return body


# --- one load run ------------------------------------------------------------


def wrk_version() -> str | None:
    exe = shutil.which("wrk")
    if exe is None:
        return None
    done = subprocess.run([exe, "-v"], capture_output=True, text=True)
    text = (done.stdout + done.stderr).strip().splitlines()
    return text[0].split("[")[0].strip() if text else "wrk"


WRK_LUA = """
wrk.method = "POST"
local f = io.open("{body}", "rb")
wrk.body = f:read("*a")
f:close()
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%.1f,"p90_us":%.1f,' ..
    '"p99_us":%.1f,"max_us":%.1f}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
"""


def run_wrk(
    port: int,
    path: str,
    body: Path,
    headers: Mapping[str, str],
    connections: int,
    duration: float,
) -> dict[str, Any]:
    """wrk, 1 thread, closed loop; the figures in loadgen.py's shape."""
    every = {"Content-Type": "application/json", **headers}
    lines = [f'wrk.headers["{k}"] = "{v}"' for k, v in every.items()]
    script = body.with_suffix(".lua")
    script.write_text(WRK_LUA.format(body=body, headers="\n".join(lines)))
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        f"http://{HOST}:{port}{path}",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    for line in done.stdout.splitlines():
        if line.startswith("WRKJSON "):
            w = msgspec.json.decode(line[8:])
            break
    else:
        raise RuntimeError(f"wrk said: {done.stdout[-500:]} {done.stderr[-500:]}")
    seconds = w["duration_us"] / 1e6
    kinds = {k: w[k] for k in ("connect", "read", "write", "status", "timeout")}
    errors = sum(kinds.values())
    ok = w["requests"] - w["status"]
    return {
        "mode": "closed",
        "connections": connections,
        "requests": ok,
        "errors": errors,
        "error_kinds": {k: v for k, v in kinds.items() if v},
        "rps": round(ok / seconds, 1),
        "p50_ms": round(w["p50_us"] / 1e3, 4),
        "p90_ms": round(w["p90_us"] / 1e3, 4),
        "p99_ms": round(w["p99_us"] / 1e3, 4),
        "max_ms": round(w["max_us"] / 1e3, 3),
    }


def run_builtin(
    port: int,
    path: str,
    body: Path,
    headers: Mapping[str, str],
    mode: str,
    connections: int,
    duration: float,
    warmup: float = 0.0,
    rate: float | None = None,
    timeout: float = 10.0,
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(BENCH / "loadgen.py"),
        "--port",
        str(port),
        "--path",
        path,
        "--body",
        str(body),
        "--mode",
        mode,
        "--connections",
        str(connections),
        "--duration",
        str(duration),
        "--warmup",
        str(warmup),
        "--timeout",
        str(timeout),
    ]
    if rate is not None:
        cmd += ["--rate", str(rate)]
    for k, v in headers.items():
        cmd += ["--header", f"{k}: {v}"]
    limit = duration + warmup + timeout + 120
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"loadgen failed: {done.stderr[-800:]}")
    return dict(msgspec.json.decode(done.stdout.strip().splitlines()[-1]))


def closed_load(
    port: int,
    path: str,
    body: Path,
    headers: Mapping[str, str],
    conns: int,
    gen: str,
    args: Any,
    pids: Callable[[], list[int]],
    fake_pids: Callable[[], list[int]],
) -> dict[str, Any]:
    """A warm-up, then `args.duration` s of closed-loop load through wrk or
    the built-in generator; adds the target's (and the fake's) CPU time per
    request, read from /proc around the measured run."""

    def load(seconds: float) -> dict[str, Any]:
        if gen == "wrk":
            return run_wrk(port, path, body, headers, conns, seconds)
        return run_builtin(port, path, body, headers, "closed", conns, seconds)

    load(args.warmup)
    mine, fakes = pids(), fake_pids()
    cpu0, fake0 = cpu_seconds(mine), cpu_seconds(fakes)
    r = load(args.duration)
    cpu, fake_cpu = cpu_seconds(mine) - cpu0, cpu_seconds(fakes) - fake0
    if r["requests"]:
        r["cpu_ms_per_req"] = round(cpu * 1e3 / r["requests"], 4)
        r["fake_cpu_ms_per_req"] = round(fake_cpu * 1e3 / r["requests"], 4)
    r["generator"] = gen
    return r


def probe(port: int, path: str, body: bytes, headers: Mapping[str, str]) -> dict:
    """One request: status, the x-llr-* headers and the first bytes (a check
    that a target answers and routes as meant before loading it)."""
    import http.client

    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "application/json", **headers},
        )
        resp = conn.getresponse()
        data = resp.read()
    finally:
        conn.close()
    info = {k: v for k, v in resp.getheaders() if k.lower().startswith("x-llr-")}
    return {"status": resp.status, "headers": info, "head": data[:300]}
