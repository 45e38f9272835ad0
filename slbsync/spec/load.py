"""Load a spec: YAML files or folders, merged, substituted, built and checked."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path as FilePath
from typing import Any

from slbsync.spec import fields as f
from slbsync.spec.build import build_named
from slbsync.spec.credentials import SECRET_HINT, looks_secret
from slbsync.spec.model import Location, Spec
from slbsync.spec.problems import SpecProblem, SpecValidationError, format_path
from slbsync.spec.read import Context
from slbsync.spec.source import (
    LocationIndex,
    NodeLocation,
    SourceDocument,
    read_yaml_file,
)
from slbsync.spec.validate import (
    check_references,
    check_target_packages,
    check_targets,
)

SPEC_SUFFIXES = (".yaml", ".yml")


def load_spec(
    paths: Sequence[str | FilePath], *, environ: Mapping[str, str] | None = None
) -> Spec:
    """Load, merge and validate spec files; SpecValidationError lists every problem."""
    environ = os.environ if environ is None else environ
    problems: list[SpecProblem] = []
    files = find_spec_files(paths, problems)
    documents = [
        document
        for file in files
        for document in read_yaml_file(file, environ, problems)
    ]
    return _build_spec(documents, problems, files)


def load_spec_documents(documents: Sequence[tuple[str, dict[str, Any]]]) -> Spec:
    """A Spec from documents already read and substituted (a saved plan's).

    Locations point at each document's source name, line 1; certificate
    paths are relative to that source, as they were in the file.
    """
    sources = []
    for name, data in documents:
        index = LocationIndex(name)
        _index_everything(data, (), Location(name, 1, 1), index)
        sources.append(SourceDocument(name, data, index))
    names = list(dict.fromkeys(name for name, _ in documents))
    return _build_spec(sources, [], names)


def find_spec_files(
    paths: Sequence[str | FilePath], problems: list[SpecProblem]
) -> list[str]:
    """Files named, and ``*.yaml``/``*.yml`` under folders named, in order."""
    files: list[str] = []
    for path in map(str, paths):
        if os.path.isdir(path):
            found = sorted(
                str(p)
                for p in FilePath(path).rglob("*")
                if p.suffix in SPEC_SUFFIXES and p.is_file()
            )
            if not found:
                problems.append(SpecProblem(None, "", f"{path}: no *.yaml spec files"))
            files.extend(found)
        elif os.path.exists(path):
            files.append(path)
        else:
            problems.append(SpecProblem(None, "", f"{path}: no such file or folder"))
    return list(dict.fromkeys(files))


def _build_spec(
    documents: list[SourceDocument], problems: list[SpecProblem], sources: list[str]
) -> Spec:
    index = LocationIndex("<spec>")
    sections: dict[str, dict[str, tuple[SourceDocument, Any]]] = {
        name: {} for name in f.SECTIONS
    }
    for document in documents:
        _scan_for_private_keys(document.data, (), document.index, problems)
        _merge(document, sections, index, problems)

    paths: dict[int, Any] = {}  # built object -> where it is in the spec
    # Filled once targets are built (SECTIONS puts them first): a load
    # balancer's listeners are read knowing their target's type.
    target_types: dict[str, str] = {}
    built: dict[str, list[Any]] = {}
    for section, shape in f.SECTIONS.items():
        built[section] = []
        for name, (document, raw) in sorted(sections[section].items()):
            base_dir = os.path.dirname(document.name) or "."
            ctx = Context(problems, index, base_dir, paths, target_types)
            item = build_named(shape, name, raw, (section, name), ctx)
            if item is not None:
                built[section].append(item)
        if section == "targets":
            target_types.update((t.name, t.type) for t in built[section])

    spec = Spec(
        targets=tuple(built["targets"]),
        load_balancers=tuple(built["load_balancers"]),
        acls=tuple(built["acls"]),
        certificates=tuple(built["certificates"]),
        sources=tuple(sources),
        documents=tuple(d.data for d in documents if isinstance(d.data, dict)),
        document_sources=tuple(d.name for d in documents if isinstance(d.data, dict)),
    )
    check_references(spec, Context(problems, index, paths=paths))
    problems.extend(check_target_packages(spec))
    if not problems:
        problems.extend(check_targets(spec))
    if problems:
        raise SpecValidationError(sorted(problems, key=_problem_order))
    return spec


def _merge(
    document: SourceDocument,
    sections: dict[str, dict[str, tuple[SourceDocument, Any]]],
    index: LocationIndex,
    problems: list[SpecProblem],
) -> None:
    data = document.data
    here = document.index
    if data is None:
        return
    if not isinstance(data, dict):
        message = "a spec document is a map with targets, load_balancers, acls, ..."
        problems.append(SpecProblem(here.value(()), "", message))
        return
    for key, value in data.items():
        if key.startswith(f.EXTENSION_PREFIX):
            continue  # a place for anchors, as in compose files
        if key not in f.SECTIONS:
            problems.append(SpecProblem(here.key((key,)), key, _unknown_section(key)))
            continue
        if value is None:
            continue
        if not isinstance(value, dict):
            message = f"{key} is a map of name: {f.SECTIONS[key].name}"
            problems.append(SpecProblem(here.value((key,)), key, message))
            continue
        for name, raw in value.items():
            _merge_one(document, key, name, raw, sections, index, problems)


def _merge_one(
    document: SourceDocument,
    section: str,
    name: str,
    raw: Any,
    sections: dict[str, dict[str, tuple[SourceDocument, Any]]],
    index: LocationIndex,
    problems: list[SpecProblem],
) -> None:
    path = (section, name)
    first = sections[section].get(name)
    if first is not None:
        noun = f.SECTIONS[section].name
        where = first[0].index.key(path)
        message = f'{noun} "{name}" is defined twice: here and at {where}'
        problems.append(
            SpecProblem(document.index.key(path), format_path(path), message)
        )
        return
    sections[section][name] = (document, raw)
    for spot, location in document.index.entries_under(path):
        index.entries.setdefault(spot, location)
    for spot in ((), (section,)):
        if spot in document.index.entries:
            index.entries.setdefault(spot, document.index.entries[spot])


def _unknown_section(key: str) -> str:
    if looks_secret(key):
        return SECRET_HINT
    close = difflib.get_close_matches(key, list(f.SECTIONS), n=1, cutoff=0.6)
    if close:
        return f'unknown field "{key}"; did you mean "{close[0]}"?'
    sections = ", ".join(f.SECTIONS)
    return f'unknown field "{key}"; a spec has {sections} (and x-... for anchors)'


def _scan_for_private_keys(
    data: Any, path: tuple[Any, ...], index: LocationIndex, problems: list[SpecProblem]
) -> None:
    """A private key pasted anywhere in a spec is refused, wherever it sits."""
    for spot, value in _walk(data, path):
        if isinstance(value, str) and "PRIVATE KEY-----" in value:
            problems.append(
                SpecProblem(
                    index.value(spot),
                    format_path(spot),
                    "a private key may not be written in a spec; put it in a PEM "
                    "file and name the file in certificates.<name>.private_key",
                )
            )


def _walk(data: Any, path: tuple[Any, ...]) -> Iterable[tuple[tuple[Any, ...], Any]]:
    stack = [(path, data)]
    while stack:
        spot, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*spot, k), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend(((*spot, i), v) for i, v in enumerate(value))
        else:
            yield spot, value


def _index_everything(
    data: Any, path: tuple[Any, ...], location: Location, index: LocationIndex
) -> None:
    index.entries[path] = NodeLocation(location, location)
    if isinstance(data, dict):
        for key, value in data.items():
            _index_everything(value, (*path, key), location, index)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _index_everything(value, (*path, i), location, index)


def _problem_order(problem: SpecProblem) -> tuple[Any, ...]:
    where = problem.location
    if where is None:
        return ("", 0, 0, problem.path, problem.message)
    return (where.file, where.line, where.column, problem.path, problem.message)
