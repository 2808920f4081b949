"""Policy stage, structure: YAML nodes in, raw Structs and located Problems out.

Walks the composed YAML tree beside a msgspec type, so that every unknown key,
duplicate key and wrong value is reported at its own line, then builds each
item with `msgspec.convert` from the keys that were fine.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
import typing
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import msgspec
import yaml

from router.errors import Problem

Seg = str | int
Path = tuple[Seg, ...]
T = TypeVar("T")

MERGE_TAG = "tag:yaml.org,2002:merge"
_AT = re.compile(r"^(?P<msg>.*?) - at `(?P<path>[^`]*)`(?: in `(?P<within>[^`]*)`)?$")
_SEG = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_NAMES = {"array": "list", "object": "mapping"}


def format_path(path: Path) -> str:
    """`("routes", 1, "match")` -> `routes[1].match`; the root is `$`."""
    out = ""
    for seg in path:
        if isinstance(seg, int):
            out += f"[{seg}]"
        else:
            out += f".{seg}" if out else seg
    return out or "$"


def construct(node: yaml.Node) -> Any:
    """Plain Python data for a node, as `yaml.safe_load` would build it."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """` (did you mean 'model'?)` for a near miss, else nothing."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "mapping"
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "scalar"


class Reporter:
    """Collects Problems for one source; finds the node a field path names."""

    def __init__(self, source: str, root: yaml.Node | None = None) -> None:
        self.source = source
        self.root = root
        self.problems: list[Problem] = []

    def add(self, line: int, col: int, path: str, message: str) -> None:
        problem = Problem(
            file=self.source, line=line, col=col, path=path, message=message
        )
        self.problems.append(problem)

    def at_mark(self, mark: yaml.Mark | None, path: str, message: str) -> None:
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self.add(line, col, path, message)

    def at_node(self, node: yaml.Node | None, path: Path, message: str) -> None:
        mark = node.start_mark if node is not None else None
        self.at_mark(mark, format_path(path), message)

    def at(self, path: Path, message: str, *, key: bool = False) -> None:
        """Report at the value `path` names (its key with `key=True`); a path
        that is absent from the file is reported at its nearest container."""
        self.at_node(self.find(path, key=key), path, message)

    def find(self, path: Path, *, key: bool = False) -> yaml.Node | None:
        node = self.root
        for depth, seg in enumerate(path):
            child = _child(node, seg, key=key and depth == len(path) - 1)
            if child is None:
                return node
            node = child
        return node

    def has_key(self, path: Path, name: str) -> bool:
        node = self.find(path)
        return isinstance(node, yaml.MappingNode) and any(
            k.value == name for k, _ in node.value
        )


def _child(node: yaml.Node | None, seg: Seg, *, key: bool) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        found = None
        for knode, vnode in node.value:
            if knode.value == seg:
                found = knode if key else vnode
        return found
    if isinstance(node, yaml.SequenceNode) and isinstance(seg, int):
        return node.value[seg] if 0 <= seg < len(node.value) else None
    return None


def find_cycle(root: yaml.Node) -> yaml.Node | None:
    """An alias that contains itself, which no policy value can mean."""
    done: set[int] = set()
    active: set[int] = set()

    def visit(node: yaml.Node) -> yaml.Node | None:
        if id(node) in active:
            return node
        if id(node) in done or isinstance(node, yaml.ScalarNode):
            return None
        active.add(id(node))
        for child in _children(node):
            hit = visit(child)
            if hit is not None:
                return hit
        active.discard(id(node))
        done.add(id(node))
        return None

    return visit(root)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            yield knode
            yield vnode
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _members(tp: Any) -> tuple[Any, ...]:
    """The members of a union (or the type itself), `Annotated` peeled off."""
    if typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(tp) for m in _members(arg))
    return (tp,)


@functools.cache
def struct_fields(cls: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    """A Struct's fields by YAML key (msgspec resolves them on every call)."""
    return {f.encode_name: f for f in msgspec.structs.fields(cls)}


def _struct_member(tp: Any) -> type[msgspec.Struct] | None:
    for m in _members(tp):
        if isinstance(m, type) and issubclass(m, msgspec.Struct):
            return m
    return None


def _dict_member(tp: Any) -> tuple[Any, Any] | None:
    for m in _members(tp):
        if typing.get_origin(m) is dict:
            key, value = typing.get_args(m)
            return key, value
    return None


def literals(tp: Any) -> list[str]:
    """Every Literal value anywhere inside a type, in declaration order."""
    out: list[str] = []
    for m in _members(tp):
        if typing.get_origin(m) is typing.Literal:
            out.extend(str(a) for a in typing.get_args(m))
        else:
            out.extend(v for a in typing.get_args(m) for v in literals(a))
    return list(dict.fromkeys(out))


class Checker:
    """Checks nodes against msgspec types, reporting through a Reporter."""

    def __init__(self, reporter: Reporter) -> None:
        self.rep = reporter

    def build(self, node: yaml.Node, cls: type[T], path: Path) -> T | None:
        """The Struct `cls` for a mapping, every problem in it reported.

        A key whose value has problems is left out, so that later checks can
        still see the rest of the item; None when even that does not convert.
        """
        if not isinstance(node, yaml.MappingNode):
            self.check(node, cls, path)
            return None
        struct = typing.cast(type[msgspec.Struct], cls)
        ok, good = self._struct(node, struct, path)
        data = {key: construct(vnode) for key, vnode in good.items()}
        try:
            return msgspec.convert(data, type=cls)
        except msgspec.ValidationError as exc:
            if ok:
                self.rep.at_node(node, path, _friendly(str(exc), cls, node))
            return None

    def check(self, node: yaml.Node, tp: Any, path: Path) -> bool:
        if isinstance(node, yaml.MappingNode):
            struct = _struct_member(tp)
            if struct is not None:
                return self._struct(node, struct, path)[0]
            pair = _dict_member(tp)
            if pair is not None:
                return self._dict(node, pair[0], pair[1], path)
        return self._convert(node, tp, path)[0]

    def pairs(
        self, node: yaml.MappingNode, path: Path
    ) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The string-keyed pairs of a mapping; reports and drops the rest."""
        out: list[tuple[str, yaml.Node, yaml.Node]] = []
        first: dict[str, yaml.Node] = {}
        for knode, vnode in node.value:
            if knode.tag == MERGE_TAG:
                msg = "merge keys (<<) are not supported; write the keys out"
                self.rep.at_node(knode, path, msg)
                continue
            key = construct(knode) if isinstance(knode, yaml.ScalarNode) else None
            if not isinstance(key, str):
                shown = knode.value if isinstance(knode, yaml.ScalarNode) else "..."
                what = type(key).__name__ if key is not None else kind(knode)
                msg = f"key {shown} is read as {what}; keys must be strings (quote it)"
                self.rep.at_node(knode, path, msg)
                continue
            if key in first:
                line = first[key].start_mark.line + 1
                msg = f"duplicate key {key!r} (first at line {line})"
                self.rep.at_node(knode, (*path, key), msg)
                continue
            first[key] = knode
            out.append((key, knode, vnode))
        return out

    def fields(
        self, node: yaml.MappingNode, cls: type[msgspec.Struct], path: Path
    ) -> tuple[bool, dict[str, yaml.Node]]:
        """Value nodes by YAML key; reports duplicate, unknown, missing keys."""
        known = struct_fields(cls)
        found: dict[str, yaml.Node] = {}
        pairs = self.pairs(node, path)
        ok = len(pairs) == len(node.value)
        for key, knode, vnode in pairs:
            if key in known:
                found[key] = vnode
                continue
            ok = False
            hint = did_you_mean(key, known)
            msg = f"unknown key {key!r}{hint}; expected one of: {', '.join(known)}"
            self.rep.at_node(knode, (*path, key), msg)
        for name, info in known.items():
            if info.required and name not in found:
                ok = False
                self.rep.at_node(node, (*path, name), f"missing required key {name!r}")
        return ok, found

    def _struct(
        self, node: yaml.MappingNode, cls: type[msgspec.Struct], path: Path
    ) -> tuple[bool, dict[str, yaml.Node]]:
        """Whether all is well, and the value nodes of the keys that are."""
        ok, found = self.fields(node, cls, path)
        known = struct_fields(cls)
        good = {}
        for key, vnode in found.items():
            if self.check(vnode, known[key].type, (*path, key)):
                good[key] = vnode
            else:
                ok = False
        return ok, good

    def _dict(self, node: yaml.MappingNode, kt: Any, vt: Any, path: Path) -> bool:
        pairs = self.pairs(node, path)
        ok = len(pairs) == len(node.value)
        for key, knode, vnode in pairs:
            ok = self._convert(knode, kt, (*path, key))[0] and ok
            ok = self.check(vnode, vt, (*path, key)) and ok
        return ok

    def _convert(self, node: yaml.Node, tp: Any, path: Path) -> tuple[bool, Any]:
        try:
            data = construct(node)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or node.start_mark
            problem = getattr(exc, "problem", None) or str(exc)
            self.rep.at_mark(mark, format_path(path), problem)
            return False, None
        try:
            return True, msgspec.convert(data, type=tp)
        except msgspec.ValidationError as exc:
            message, sub = _split(str(exc))
            target = node
            for seg in sub:
                target = _child(target, seg, key=False) or target
            self.rep.at_node(target, (*path, *sub), _friendly(message, tp, target))
            return False, None


def _split(error: str) -> tuple[str, Path]:
    """msgspec's `msg - at `$.a[1]`` -> (msg, ("a", 1)); dict keys stay whole."""
    m = _AT.match(error)
    if m is None:
        return error, ()
    where = m["within"] or m["path"]
    sub: list[Seg] = []
    for name, index in _SEG.findall(where[1:]):
        if name:
            sub.append(name)
        elif index != "...":
            sub.append(int(index))
    return m["msg"], tuple(sub)


def _yaml_names(quoted: re.Match[str]) -> str:
    """msgspec's JSON type names in YAML's words: `array` -> `list`."""
    return re.sub(r"\b(array|object)\b", lambda m: _NAMES[m[1]], quoted[0])


def _friendly(message: str, tp: Any, node: yaml.Node) -> str:
    enum = re.match(r"Invalid enum value (.*)$", message)
    if enum:
        return f"invalid value {enum[1]}; expected one of: {', '.join(literals(tp))}"
    message = re.sub(r"`[^`]*`", _yaml_names, message)
    if message.startswith("Expected"):
        message = "e" + message[1:]
        if ", got" not in message and isinstance(node, yaml.ScalarNode):
            message += f", got {node.value}"
    return message
