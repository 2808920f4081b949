"""The Dockerfile and the Kubernetes manifests in deploy/, parsed (they are
not run here): ports, probes, the non-root user, the mounted policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from router.__main__ import _parser
from router.policy import load_policy_text

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), " ".join(rest.split())))
    return out


def manifests() -> dict[str, Any]:
    docs: dict[str, Any] = {}
    for path in sorted(DEPLOY.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            docs[doc["kind"]] = doc
    return docs


def runtime_stage() -> list[tuple[str, str]]:
    lines = dockerfile()
    last_from = max(i for i, (word, _) in enumerate(lines) if word == "FROM")
    return lines[last_from:]


def test_dockerfile_slim_python_non_root_healthcheck() -> None:
    lines = dockerfile()
    assert [a for w, a in lines if w == "FROM"] == [
        "python:3.11-slim AS build",
        "python:3.11-slim",
    ]
    stage = runtime_stage()
    user = [a for w, a in stage if w == "USER"]
    assert user and user[-1].split(":")[0] not in ("root", "0")
    env = " ".join(a for w, a in stage if w == "ENV")
    assert "LLR_PORT=3030" in env and "LLR_HOST=0.0.0.0" in env
    assert "LLR_POLICY=/etc/llm-router/policy.yaml" in env
    assert [a for w, a in stage if w == "EXPOSE"] == ["3030"]
    (check,) = [a for w, a in stage if w == "HEALTHCHECK"]
    assert "/health" in check and "LLR_PORT" in check
    # The extension is compiled in the build stage; the runtime has no gcc.
    build = lines[: len(lines) - len(stage)]
    assert any("gcc" in a for w, a in build if w == "RUN")
    assert not any("gcc" in a for w, a in stage if w == "RUN")
    assert ("ENTRYPOINT", '["llm-router"]') in stage
    cmd = [a for w, a in stage if w == "CMD"][-1]
    assert "--watch" in cmd


def test_deployment_service_and_configmap_agree() -> None:
    docs = manifests()
    assert {"Deployment", "Service", "ConfigMap"} <= docs.keys()
    deployment, service, configmap = (
        docs["Deployment"],
        docs["Service"],
        docs["ConfigMap"],
    )
    template = deployment["spec"]["template"]
    labels = template["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    pod = template["spec"]
    (container,) = pod["containers"]
    (port,) = container["ports"]
    (service_port,) = service["spec"]["ports"]
    assert service_port["targetPort"] in (port["name"], port["containerPort"])

    args = _parser().parse_args(container["args"])
    assert args.command == "serve" and args.watch is True
    assert args.port == port["containerPort"] and args.host == "0.0.0.0"

    for probe, path in [("readinessProbe", "/ready"), ("livenessProbe", "/health")]:
        get = container[probe]["httpGet"]
        assert get["path"] == path
        assert get["port"] in (port["name"], port["containerPort"])

    notes = template["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert notes["prometheus.io/port"] == str(port["containerPort"])
    assert notes["prometheus.io/path"] == "/metrics"

    security = pod["securityContext"]
    assert security["runAsNonRoot"] is True and security["runAsUser"] != 0
    assert container["securityContext"]["allowPrivilegeEscalation"] is False

    # The policy file --policy names is the ConfigMap's key, mounted as a
    # directory (a subPath mount would never see an update, so no reload).
    policy = Path(args.policy)
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = [
        m for m in container["volumeMounts"] if m["mountPath"] == str(policy.parent)
    ]
    assert len(mounts) == 1 and "subPath" not in mounts[0]
    volume = volumes[mounts[0]["name"]]
    assert volume["configMap"]["name"] == configmap["metadata"]["name"]
    assert policy.name in configmap["data"]

    # Every other writable path the router uses is a volume (read-only root).
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    writable = {m["mountPath"] for m in container["volumeMounts"]}
    env = {e["name"]: e["value"] for e in container["env"]}
    assert str(Path(args.db).parent) in writable
    assert str(Path(env["LLR_CACHE_DIR"]).parent) in writable


def test_the_configmap_policy_loads() -> None:
    configmap = manifests()["ConfigMap"]
    policy = load_policy_text(configmap["data"]["policy.yaml"], "configmap")
    assert policy.backends["local"].local is True
    assert [r.name for r in policy.routes] == ["private", "code", "general"]


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    others = sorted(p.name for p in DEPLOY.glob("*.yaml"))
    others.remove("kustomization.yaml")
    assert sorted(kustomization["resources"]) == others


def test_dockerignore_keeps_build_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "build", "**/*.so"} <= set(ignored)
