"""Restart under traffic: SIGTERM while clients keep sending, with one worker
and with two. Requests in flight complete; every request that got an
answer has its row in the store; the process exits 0 and the port is free
again. Requests sent after the listener closed are refused at connect
(never half-answered)."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.functional.procs import fake_upstream, policy_text, router

CLIENTS = 6
ANSWERED_BEFORE = 20  # answers seen before the signal


def _post(url: str, model: str, rid: str, stream: bool) -> int:
    body = {
        "model": model,
        "stream": stream,
        "messages": [{"role": "user", "content": "hi"}],
    }
    req = urllib.request.Request(
        url + "/v1/chat/completions", method="POST", data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "x-request-id": rid},
    )  # fmt: skip
    with urllib.request.urlopen(req, timeout=60) as r:
        data = r.read()
        if stream:
            assert data.endswith(b"data: [DONE]\n\n"), data[-200:]
        return int(r.status)


class Load:
    """CLIENTS threads sending back to back until told to stop or refused."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.stop = threading.Event()
        self.answered: dict[str, int] = {}
        self.refused = 0
        self.broken: list[str] = []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self.client, args=(i,)) for i in range(CLIENTS)
        ]

    def client(self, i: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            rid = f"c{i}-{n}"
            model = "slow-300" if n % 3 else "llama3.2"
            try:
                status = _post(self.url, model, rid, stream=n % 2 == 0)
            except urllib.error.HTTPError as exc:
                status = exc.code
                exc.close()
            except urllib.error.URLError as exc:
                if isinstance(exc.reason, ConnectionRefusedError):
                    with self.lock:
                        self.refused += 1
                    time.sleep(0.05)
                    continue
                with self.lock:
                    self.broken.append(f"{rid}: {exc!r}")
                continue
            except (ConnectionError, AssertionError) as exc:
                with self.lock:
                    self.broken.append(f"{rid}: {exc!r}")
                continue
            with self.lock:
                self.answered[rid] = status

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=90)


def _rows(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT request_id, status FROM requests"))
    finally:
        conn.close()


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.timeout(180)
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_under_traffic(tmp_path: Path, workers: int) -> None:
    with fake_upstream("--pulled", "llama3.2,slow-300") as fake:
        text = policy_text(fake, models=["slow-300"])
        with (
            router(tmp_path, text, "--workers", str(workers)) as r,
            Load(r.url) as load,
        ):
            deadline = time.monotonic() + 30
            while len(load.answered) < ANSWERED_BEFORE and time.monotonic() < deadline:
                time.sleep(0.05)
            assert load.answered, "no request was answered before the signal"
            code = r.stop(timeout=90)
            # Clients go on until they are refused: the listener is closed.
            deadline = time.monotonic() + 30
            while load.refused < CLIENTS and time.monotonic() < deadline:
                time.sleep(0.05)
        port = int(r.url.rsplit(":", 1)[1])
    assert code == 0, r.output()[-3000:]
    assert load.broken == [], load.broken[:5]
    assert set(load.answered.values()) == {200}
    rows = _rows(r.db)
    missing = [rid for rid in load.answered if rid not in rows]
    assert missing == [], missing[:5]
    assert all(rows[rid] == 200 for rid in load.answered)
    assert load.refused >= 1
    assert _port_free(port)
