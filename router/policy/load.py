"""Policy stage, entry point: a YAML file or text in, a compiled `Policy` out.

YAML -> nodes (CSafeLoader, with marks) -> raw Structs per item -> semantic
checks -> compile. Every problem is collected before `PolicyError` is raised.
"""

from __future__ import annotations

import hashlib
import os

import yaml

from router.classify.types import ClassifierConfig
from router.errors import PolicyError, Problem
from router.policy.compile import compile_policy
from router.policy.locality import (
    Resolver,
    endpoint_host,
    is_loopback_host,
    public_addresses,
    resolve,
)
from router.policy.model import Policy
from router.policy.nodes import Checker, Reporter, construct, find_cycle
from router.policy.schema import (
    Parsed,
    RawAB,
    RawBackend,
    RawPolicy,
    RawPrivacy,
    RawRoute,
)
from router.policy.validate import validate

__all__ = ["check_policy", "load_policy", "load_policy_text", "locality_warnings"]


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Load, validate and compile the policy file at `path`."""
    source = os.fspath(path)
    text = _read(source)
    return load_policy_text(text, source)


def load_policy_text(text: str, source: str = "<string>") -> Policy:
    """Load, validate and compile policy YAML; `source` names it in problems."""
    rep = Reporter(source)
    raw = _parse(text, rep)
    if rep.problems or raw is None:
        raise PolicyError(sorted(rep.problems, key=lambda p: (p.line, p.col)))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return compile_policy(raw, source, digest)


def check_policy(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem in the policy file at `path`; empty when it loads."""
    try:
        load_policy(path)
    except PolicyError as exc:
        return exc.problems
    return []


def locality_warnings(
    path: str | os.PathLike[str], resolver: Resolver = resolve
) -> list[Problem]:
    """What `llm-router check` warns about a policy that loads: a `local:
    true` backend whose host resolves to a public address, and an Ollama that
    is not local because its host is not loopback. Resolves host names."""
    source = os.fspath(path)
    text = _read(source)
    policy = load_policy_text(text, source)
    rep = Reporter(source, yaml.compose(text, Loader=yaml.CSafeLoader))
    for name, b in policy.backends.items():
        where = ("backends", name)
        host = endpoint_host(b.endpoint)
        if is_loopback_host(host):
            continue
        if b.local:
            public = public_addresses(host, resolver)
            if public:
                rep.at(
                    (*where, "local"),
                    f"warning: local: true, but {host} resolves to the public "
                    f"address {', '.join(public)}; pinned requests sent here "
                    "leave your network",
                )
        elif b.type == "ollama" and not rep.has_key(where, "local"):
            rep.at(
                (*where, "endpoint"),
                f"warning: not local: {host} is not a loopback address, so pinned "
                "requests are never sent here; for an Ollama on your own "
                "network, set local: true",
            )
    return rep.problems


def _read(source: str) -> str:
    try:
        with open(source, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise _file_error(source, exc.strerror or str(exc)) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(source, f"not UTF-8 ({exc.reason})") from exc


def _file_error(source: str, why: str) -> PolicyError:
    problem = Problem(
        file=source, line=1, col=1, path="(file)", message=f"cannot read: {why}"
    )
    return PolicyError([problem])


def _parse(text: str, rep: Reporter) -> RawPolicy | None:
    try:
        root = yaml.compose(text, Loader=yaml.CSafeLoader)
    except yaml.MarkedYAMLError as exc:
        rep.at_mark(exc.problem_mark, "(yaml)", _yaml_message(exc))
        return None
    except yaml.reader.ReaderError as exc:
        message = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        rep.add(*_line_col(text, exc.position), "(yaml)", message)
        return None
    except UnicodeEncodeError as exc:
        message = f"not valid text: {exc.reason}"
        rep.add(*_line_col(text, exc.start), "(yaml)", message)
        return None
    if root is None:
        rep.at_mark(None, "$", "empty policy; expected a mapping with backends, routes")
        return None
    rep.root = root
    cycle = find_cycle(root)
    if cycle is not None:
        rep.at_node(cycle, (), "an alias that contains itself is not supported")
        return None
    parsed = _sections(root, rep)
    validate(parsed, rep)
    return parsed.complete()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    message = exc.problem or "invalid YAML"
    mark = exc.context_mark
    if exc.context and mark is not None:
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        message += f" ({exc.context} started at {where})"
    elif exc.context:
        message += f" ({exc.context})"
    return message


def _sections(root: yaml.Node, rep: Reporter) -> Parsed:
    """Each top-level section, and each backend and route on its own."""
    check = Checker(rep)
    parsed = Parsed()
    if not isinstance(root, yaml.MappingNode):
        check.check(root, RawPolicy, ())
        return parsed
    _, found = check.fields(root, RawPolicy, ())
    if "backends" in found:
        parsed.backends = _backends(found["backends"], check)
    if "routes" in found:
        parsed.routes = _routes(found["routes"], check)
    if "privacy" in found:
        parsed.privacy = check.build(found["privacy"], RawPrivacy, ("privacy",))
    if "ab" in found:
        parsed.ab = check.build(found["ab"], RawAB, ("ab",))
    if "classifier" in found:
        node = found["classifier"]
        parsed.classifier = check.build(node, ClassifierConfig, ("classifier",))
    if "baseline" in found:
        node = found["baseline"]
        ok = check.check(node, str, ("baseline",))
        parsed.baseline = construct(node) if ok else None
    return parsed


def _backends(node: yaml.Node, check: Checker) -> dict[str, RawBackend | None] | None:
    if not isinstance(node, yaml.MappingNode):
        check.check(node, dict[str, RawBackend], ("backends",))
        return None
    out: dict[str, RawBackend | None] = {}
    for name, _, vnode in check.pairs(node, ("backends",)):
        out[name] = check.build(vnode, RawBackend, ("backends", name))
    if not node.value:
        check.rep.at_node(node, ("backends",), "declare at least one backend")
    return out


def _routes(node: yaml.Node, check: Checker) -> list[RawRoute | None] | None:
    if not isinstance(node, yaml.SequenceNode):
        check.check(node, list[RawRoute], ("routes",))
        return None
    routes = [
        check.build(item, RawRoute, ("routes", i)) for i, item in enumerate(node.value)
    ]
    if not routes:
        check.rep.at_node(node, ("routes",), "list at least one route")
    return routes
