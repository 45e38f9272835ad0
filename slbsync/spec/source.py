"""Read YAML spec files into plain data, keeping where every value came from.

PyYAML's node API (``compose``) gives each node its start mark; we turn the
nodes into plain dicts, lists and scalars ourselves, so that every value's
``file:line:col`` can be looked up by its path, duplicate keys are caught
(PyYAML would keep the last one silently), and ``${VAR}`` references are
filled before a plain scalar's type is resolved (``port: ${PORT}`` is an int).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError

from slbsync.spec.envsubst import substitute
from slbsync.spec.model import Location
from slbsync.spec.problems import Path, SpecProblem, format_path

# Aliases can make a small file expand to a huge tree ("billion laughs"), and
# a recursive alias to an endless one; both end as a problem, not a hang.
MAX_DEPTH = 64
MAX_ALIASED_VALUES = 50_000


@dataclass(frozen=True)
class NodeLocation:
    """Where a mapping key (if any) and its value start."""

    value: Location
    key: Location | None = None


@dataclass
class LocationIndex:
    """Locations of every value of a document, by path."""

    source: str
    entries: dict[Path, NodeLocation] = field(default_factory=dict)
    _by_object: dict[Path, list[tuple[Path, NodeLocation]]] | None = field(
        default=None, repr=False
    )

    def entries_under(self, prefix: Path) -> list[tuple[Path, NodeLocation]]:
        """Entries of one top-level object, e.g. ``("load_balancers", "chat")``.

        Grouped once, when first asked: merging many objects stays linear.
        """
        if self._by_object is None:
            self._by_object = {}
            for path, entry in self.entries.items():
                if len(path) >= len(prefix):
                    key = path[: len(prefix)]
                    self._by_object.setdefault(key, []).append((path, entry))
        return self._by_object.get(prefix, [])

    def value(self, path: Path) -> Location:
        """The value at ``path``, or the nearest enclosing value that has one."""
        return self._nearest(path).value

    def key(self, path: Path) -> Location:
        """The key at ``path`` (its value for list items and documents)."""
        entry = self._nearest(path)
        return entry.key or entry.value

    def _nearest(self, path: Path) -> NodeLocation:
        for end in range(len(path), -1, -1):
            entry = self.entries.get(path[:end])
            if entry is not None:
                return entry
        return NodeLocation(Location(self.source, 1, 1))


@dataclass
class SourceDocument:
    """One YAML document: its data after substitution and its locations."""

    name: str
    data: Any
    index: LocationIndex


def read_yaml_file(
    path: str, environ: Mapping[str, str], problems: list[SpecProblem]
) -> list[SourceDocument]:
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        problems.append(SpecProblem(None, "", f"{path}: cannot read: {reason}"))
        return []
    return read_yaml_text(text, path, environ, problems)


def read_yaml_text(
    text: str, name: str, environ: Mapping[str, str], problems: list[SpecProblem]
) -> list[SourceDocument]:
    """Every document in ``text``; syntax errors become located problems."""
    loader = _Loader(text)
    documents: list[SourceDocument] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said one is there
            converter = _Converter(name, environ, loader, problems)
            data = converter.convert(node, ())
            documents.append(SourceDocument(name, data, converter.index))
    except yaml.MarkedYAMLError as err:
        problems.append(_syntax_problem(name, err))
    except yaml.YAMLError as err:
        problems.append(SpecProblem(Location(name, 1, 1), "", f"not YAML: {err}"))
    except _TooBig as err:
        problems.append(err.problem)
    except RecursionError:
        message = f"nesting is deeper than {MAX_DEPTH} levels"
        problems.append(SpecProblem(Location(name, 1, 1), "", message))
    finally:
        loader.dispose()
    return documents


# libyaml's parser, when PyYAML was built with it, composes the same nodes and
# marks several times faster; the pure-Python one is the fallback.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _syntax_problem(name: str, err: yaml.MarkedYAMLError) -> SpecProblem:
    mark = err.problem_mark or err.context_mark
    location = _location(name, mark) if mark else Location(name, 1, 1)
    message = f"YAML syntax error: {err.problem or err.context or err}"
    opened = err.context_mark
    if err.problem and err.context and opened is not None:
        # PyYAML finds a missing bracket where it gives up; say where it opened.
        message += (
            f" ({err.context} that starts at line {opened.line + 1}, "
            f"column {opened.column + 1})"
        )
    return SpecProblem(location, "", message)


def _location(name: str, mark: Any) -> Location:
    return Location(name, mark.line + 1, mark.column + 1)


class _TooBig(Exception):
    """The document is too deep or too large to read any further."""

    def __init__(self, problem: SpecProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Converter:
    """Turns one composed document into plain data and a location index."""

    def __init__(
        self,
        name: str,
        environ: Mapping[str, str],
        loader: Any,
        problems: list[SpecProblem],
    ) -> None:
        self.name = name
        self.environ = environ
        self.loader = loader
        self.problems = problems
        self.index = LocationIndex(name)
        self.seen: set[int] = set()
        self.aliased = 0
        self.resolver = yaml.resolver.Resolver()

    def convert(
        self,
        node: yaml.Node,
        path: Path,
        key: Location | None = None,
        aliased: bool = False,
    ) -> Any:
        here = _location(self.name, node.start_mark)
        self.index.entries[path] = NodeLocation(here, key)
        # A node met again is an alias: count what it repeats.
        aliased = aliased or id(node) in self.seen
        self.seen.add(id(node))
        self.aliased += aliased
        if len(path) > MAX_DEPTH or self.aliased > MAX_ALIASED_VALUES:
            raise _TooBig(SpecProblem(here, format_path(path), self._too_big(path)))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, aliased)
        if isinstance(node, yaml.SequenceNode):
            return [
                self.convert(item, (*path, i), None, aliased)
                for i, item in enumerate(node.value)
            ]
        assert isinstance(node, yaml.ScalarNode)  # the one kind of node left
        return self._scalar(node, path, here)

    def _too_big(self, path: Path) -> str:
        if len(path) > MAX_DEPTH:
            return f"nesting is deeper than {MAX_DEPTH} levels"
        return f"aliases repeat more than {MAX_ALIASED_VALUES} values"

    def _mapping(
        self, node: yaml.MappingNode, path: Path, aliased: bool
    ) -> dict[str, Any]:
        # ``<<`` merge keys: merged entries come first, the node's own win.
        own = len([k for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"])
        try:
            self.loader.flatten_mapping(node)
        except ConstructorError as err:
            self._problem(_location(self.name, node.start_mark), path, str(err.problem))
        merged = len(node.value) - own
        result: dict[str, Any] = {}
        seen: dict[str, Location] = {}
        for position, (key_node, value_node) in enumerate(node.value):
            key_at = _location(self.name, key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                self._problem(key_at, path, "a key must be text, not a list or map")
                continue
            key = str(key_node.value)
            if position >= merged and key in seen:
                message = f'"{key}" is given twice; the first is at {seen[key]}'
                self._problem(key_at, (*path, key), message)
            if position >= merged:
                seen[key] = key_at
            result[key] = self.convert(value_node, (*path, key), key_at, aliased)
        return result

    def _scalar(self, node: yaml.ScalarNode, path: Path, here: Location) -> Any:
        text = str(node.value)
        if "${" not in text:
            return self._construct(node)
        filled, problems = substitute(text, self.environ)
        for problem in problems:
            self._problem(
                self._offset(node, here, problem.offset), path, problem.message
            )
        if problems:
            return None  # reported once; the field counts as left out
        if not node.style:  # plain: None, or "" from libyaml
            # A plain scalar takes the type of what it became: ``${PORT}`` -> 80.
            tag = self.resolver.resolve(  # type: ignore[no-untyped-call]
                yaml.ScalarNode, filled, (True, False)
            )
        else:
            tag = "tag:yaml.org,2002:str"
        return self._construct(
            yaml.ScalarNode(tag, filled, node.start_mark, node.end_mark, node.style)
        )

    def _offset(self, node: yaml.ScalarNode, here: Location, offset: int) -> Location:
        # Exact columns only where the text maps one to one onto the line.
        if node.start_mark.line != node.end_mark.line:
            return here
        quote = 1 if node.style in ("'", '"') else 0
        return Location(here.file, here.line, here.column + quote + offset)

    def _construct(self, node: yaml.ScalarNode) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ConstructorError, ValueError, TypeError):
            return str(node.value)
        # Only JSON's types: a saved plan keeps these documents.
        if isinstance(value, datetime.date | bytes | set):
            return str(node.value)
        return value

    def _problem(self, location: Location, path: Path, message: str) -> None:
        self.problems.append(SpecProblem(location, format_path(path), message))
