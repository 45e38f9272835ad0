"""ACLs on nginx: ``allow``/``deny`` lines in a listener's server block.

nginx checks ``allow`` and ``deny`` in order and the first match wins, in
``stream`` (ngx_stream_access_module) and ``http`` (ngx_http_access_module)
servers alike. So a white list is ``allow <cidr>;`` per entry then
``deny all;``, and a black list is ``deny <cidr>;`` per entry then
``allow all;``. A refused stream client is disconnected; a refused HTTP
client gets 403.

The owned file also records each ACL of the spec in a main-level comment
(``# slbsync acl: {...}``, with the entries' comments) and, in each server
block that applies one, which ACL it is (``# slbsync listener acl: {...}``).
The ``allow``/``deny`` lines are the truth: when they differ from the
record, the ACL (or the listener's binding) reads back as they are, so a
hand edit shows as drift.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from slbsync.spec.model import Acl, AclBinding, AclEntry
from slbsync.spec.plain import to_plain

ACL_MARKER = "slbsync acl:"
BINDING_MARKER = "slbsync listener acl:"
ACCESS_DIRECTIVES = ("allow", "deny")

Directive = dict[str, Any]
MarkerParser = Callable[[str, str], dict[str, Any]]
"""Reads a marker comment's JSON: ``(comment, marker) -> document``."""

_FIRST_AND_LAST = {"white": ("allow", "deny"), "black": ("deny", "allow")}
"""Per list type: the directive of each entry, then the catch-all's."""


def acl_markers(acls: Mapping[str, Acl]) -> list[Directive]:
    """One main-level comment per ACL, so a plan reads ACLs back as live."""
    markers = []
    for name in sorted(acls):
        plain = to_plain(acls[name])
        kept = ("name", "entries", "address_ip_version")
        document = {key: plain[key] for key in kept}
        text = f" {ACL_MARKER} {json.dumps(document, sort_keys=True)}"
        markers.append(_comment(text))
    return markers


def access_directives(
    binding: AclBinding | None, acls: Mapping[str, Acl]
) -> list[Directive]:
    """The marker and ``allow``/``deny`` lines a server block gets."""
    if binding is None:
        return []
    acl = acls[binding.acl]  # commit refuses a listener naming an unknown ACL
    each, last = _FIRST_AND_LAST[binding.type]
    marker = json.dumps({"acl": binding.acl}, sort_keys=True)
    lines = [_comment(f" {BINDING_MARKER} {marker}")]
    lines += [_directive(each, entry.cidr) for entry in acl.entries]
    lines.append(_directive(last, "all"))
    return lines


def read_binding(
    body: list[Directive], parse_marker: MarkerParser
) -> tuple[AclBinding | None, list[str] | None]:
    """The ACL a server block applies and the addresses it lists.

    The addresses are None when the lines are not in a shape that
    ``access_directives`` writes (a hand edit); the binding's type then
    holds the lines verbatim, so the listener shows as drift and the next
    apply writes them again.
    """
    rules = [
        (d["directive"], d["args"][0] if d.get("args") else "")
        for d in body
        if d["directive"] in ACCESS_DIRECTIVES
    ]
    comments = [d.get("comment", "").strip() for d in body if d["directive"] == "#"]
    marker = next((c for c in comments if c.startswith(BINDING_MARKER)), None)
    if not rules:
        return None, None  # no lines: nothing is refused, whatever the marker
    name = parse_marker(marker, BINDING_MARKER)["acl"] if marker else ""
    for kind, (each, last) in _FIRST_AND_LAST.items():
        *entries, final = rules
        if final == (last, "all") and all(word == each for word, _ in entries):
            return AclBinding(name, kind), [cidr for _, cidr in entries]
    verbatim = "; ".join(f"{word} {arg}" for word, arg in rules)
    return AclBinding(name, f"hand-edited: {verbatim}"), None


def read_acls(
    comments: list[str],
    target: str,
    served: Mapping[str, list[list[str]]],
    parse_marker: MarkerParser,
) -> list[Acl]:
    """The ACLs recorded in main-level ``comments``, as nginx enforces them.

    ``served`` holds, per ACL name, the addresses of each server block that
    applies it; the first that differs from the record wins, so an address
    added or removed by hand shows as a changed ACL.
    """
    acls = []
    for comment in comments:
        if not comment.startswith(ACL_MARKER):
            continue
        document = parse_marker(comment, ACL_MARKER)
        entries = tuple(AclEntry(**entry) for entry in document.get("entries", []))
        recorded = [entry.cidr for entry in entries]
        for cidrs in served.get(document["name"], []):
            if cidrs != recorded:
                entries = tuple(AclEntry(cidr) for cidr in cidrs)
                break
        acls.append(
            Acl(
                name=document["name"],
                target=target,
                entries=entries,
                address_ip_version=document.get("address_ip_version", "ipv4"),
            )
        )
    return acls


def _comment(text: str) -> Directive:
    return {"directive": "#", "args": [], "comment": text}


def _directive(name: str, argument: str) -> Directive:
    return {"directive": name, "args": [argument]}
