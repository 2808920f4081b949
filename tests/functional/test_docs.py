"""The docs' examples, executed: every policy in docs/ loads (and the cases
written under one hold for it), every curl and OpenAI SDK example in docs/
and the README runs against a router on loopback in front of the stand-in
backends, and metrics.md lists every Prometheus series and store column the
code has."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer

from router.app import create_app
from router.cases import run as run_cases
from router.metrics.prom import Metrics
from router.metrics.store_schema import REQUEST_COLUMNS, SHADOW_COLUMNS
from router.policy import load_policy, load_policy_text
from router.settings import Settings
from tests.functional.conftest import Fakes

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
DOC_URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):3030")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(*langs: str, paths: list[Path] = DOCS) -> list[tuple[str, int, str]]:
    """(file name, block number, text) of each fenced block in `langs`."""
    out = []
    for path in paths:
        for i, (lang, body) in enumerate(FENCE.findall(path.read_text())):
            if lang in langs:
                out.append((path.name, i, body))
    return out


def ident(block: tuple[str, int, str]) -> str:
    return f"{block[0]}#{block[1]}"


def test_the_docs_exist() -> None:
    names = {p.name for p in DOCS}
    assert {
        "policy.md",
        "backends.md",
        "api.md",
        "metrics.md",
        "benchmarks.md",
    } <= names


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_yaml_block_is_a_policy_that_loads_or_cases_that_hold(
    doc: Path, tmp_path: Path
) -> None:
    policy: str | None = None
    for name, i, body in blocks("yaml", paths=[doc]):
        data = yaml.safe_load(body)
        if isinstance(data, dict) and "backends" in data:
            load_policy_text(body, f"{name}#{i}")
            policy = body
        elif isinstance(data, list):
            assert policy is not None, f"{name}#{i}: cases before any policy"
            (tmp_path / "policy.yaml").write_text(policy)
            (tmp_path / "cases.yaml").write_text(body)
            assert (
                run_cases(str(tmp_path / "policy.yaml"), str(tmp_path / "cases.yaml"))
                == 0
            )
        else:
            pytest.fail(f"{name}#{i}: a yaml block that is neither a policy nor cases")


def test_metrics_doc_lists_every_series() -> None:
    documented = {}
    for line in (ROOT / "docs" / "metrics.md").read_text().splitlines():
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 3 and cells[1].startswith("`llr_"):
            documented[cells[1].strip("`")] = cells[2]
    registered = {}
    for family in Metrics().registry.collect():
        suffix = "_total" if family.type == "counter" else ""
        registered[family.name + suffix] = family.type
    assert documented == registered


def test_metrics_doc_labels_match_the_code() -> None:
    m = Metrics()
    text = (ROOT / "docs" / "metrics.md").read_text()
    for metric in (
        m.requests, m.duration, m.ttfb, m.overhead, m.fallbacks, m.shifts, m.pins,
        m.shadow, m.backend_up, m.reloads, m.circuit_state, m.tokens, m.dropped,
    ):  # fmt: skip
        (family,) = metric.describe()
        name = family.name + ("_total" if family.type == "counter" else "")
        row = next(
            line for line in text.splitlines() if line.startswith(f"| `{name}` ")
        )
        labels = tuple(re.findall(r"`(\w+)`", row.split("|")[3]))
        assert labels == tuple(metric._labelnames), name


def test_metrics_doc_lists_every_store_column() -> None:
    text = (ROOT / "docs" / "metrics.md").read_text()
    for table, columns in (("requests", REQUEST_COLUMNS), ("shadow", SHADOW_COLUMNS)):
        section = text.split(f"### `{table}`", 1)[1].split("\n#", 1)[0]
        rows = re.findall(r"^\| `(\w+)` \|", section, re.M)
        assert rows == list(columns), table


ROUTES = """\
  - name: private
    match: {sensitivity: high}
    backend: local
    reason: "Privacy: never leave the machine"
  - name: code
    match: {task: code}
    backend: local
    fallback: sarmalink
  - default: sarmalink
    fallback: local
"""


@pytest.fixture
async def router(
    fakes: Fakes, backend_keys: None, tmp_path: Path
) -> AsyncIterator[str]:
    path = tmp_path / "policy.yaml"
    path.write_text(
        fakes.policy(
            ROUTES,
            extra="ab: {enabled: true, sampleRate: 1.0, candidates: {sarmalink: local}}",
        )
    )
    settings = Settings(policy=str(path), db=str(tmp_path / "m.db"))
    server = TestServer(create_app(load_policy(path), settings), host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/")
    await server.close()


def loopback_only(text: str, base: str) -> str:
    """The example with its documented address replaced by the test
    router's; any other URL left in it fails the test."""
    out = DOC_URL.sub(base, text)
    for url in re.findall(r"https?://[^\s'\"]+", out):
        assert url.startswith(base), f"an example would leave loopback: {url}"
    return out


def quiet_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = env["no_proxy"] = "*"
    return env


async def run(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=quiet_env(),
        cwd=ROOT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode()


CURLS = [
    b for b in blocks("bash", "sh", paths=[*DOCS, ROOT / "README.md"]) if "curl" in b[2]
]
SDKS = [
    b for b in blocks("python", paths=[*DOCS, ROOT / "README.md"]) if "OpenAI(" in b[2]
]


def test_every_python_block_is_an_sdk_example_or_the_adapter() -> None:
    for name, i, body in blocks("python"):
        assert "OpenAI(" in body or body.startswith("# router/backends/"), f"{name}#{i}"
    assert CURLS and SDKS


@pytest.mark.timeout(180)
async def test_every_curl_example_runs(router: str) -> None:
    for block in CURLS:
        script = loopback_only(block[2], router)
        code, out = await run("bash", "-eo", "pipefail", "-c", script)
        assert code == 0 and out.strip(), (ident(block), out)
        assert "Internal router error" not in out, (ident(block), out)


@pytest.mark.timeout(180)
async def test_every_sdk_example_runs(router: str) -> None:
    for block in SDKS:
        script = loopback_only(block[2], router)
        code, out = await run(sys.executable, "-c", script)
        assert code == 0, (ident(block), out)


def test_policy_doc_names_every_policy_key() -> None:
    import msgspec

    from router.classify.types import ClassifierConfig, Unreadable
    from router.policy import schema

    prose = FENCE.sub("", (ROOT / "docs" / "policy.md").read_text())
    spans = re.findall(r"`([^`]+)`", prose)
    named = set(re.findall(r"\w+", " ".join(spans)))
    structs = [
        schema.RawPolicy, schema.RawBackend, schema.RawCost, schema.RawCircuit,
        schema.RawRoute, schema.RawMatch, schema.RawTokens, schema.RawPrivacy,
        schema.RawAB, schema.RawClientOptions, ClassifierConfig, Unreadable,
    ]  # fmt: skip
    for struct in structs:
        for field in msgspec.structs.fields(struct):
            assert field.encode_name in named, (struct.__name__, field.encode_name)


def test_api_doc_lists_every_endpoint_and_error_code() -> None:
    from router import errors
    from router.policy import load_policy as load

    text = (ROOT / "docs" / "api.md").read_text()
    app = create_app(
        load(ROOT / "policy.example.yaml"), Settings(policy="p.yaml", db="off")
    )
    for resource in app.router.resources():
        path = resource.canonical
        for r in resource:
            if r.method != "HEAD":
                assert f"`{r.method} {path}" in text, (r.method, path)
    kinds = [getattr(errors, name) for name in dir(errors)]
    for kind in kinds:
        if isinstance(kind, type) and issubclass(kind, errors.HTTPError):
            if kind is errors.HTTPError:
                continue
            assert f"| {kind.status} | `{kind.type}` |" in text, kind
            assert kind.code is None or f"`{kind.code}`" in text, kind


def test_api_doc_names_every_header_the_router_sets_or_reads() -> None:
    source = " ".join(p.read_text() for p in (ROOT / "router").rglob("*.py"))
    text = (ROOT / "docs" / "api.md").read_text()
    for header in sorted(set(re.findall(r'"(x-llr-[a-z-]+)"', source))):
        assert f"`{header}`" in text, header
