"""Read the owned file back into load balancers, in the spec's vocabulary.

The parser knows the directives ``render`` writes. A directive it does not
know (a hand edit) is reported in ``OwnedConfig.unknown``: the next apply
would drop it, so the target logs it as a warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace

from slbsync.errors import TargetError
from slbsync.spec.model import (
    Acl,
    AclBinding,
    AclEntry,
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
    StickySession,
    XForwardedFor,
)
from slbsync.spec.plain import from_plain
from slbsync.targets.haproxy.mapping import (
    ACL_PREFIX,
    HTTP_PROTOCOLS,
    RULE_PREFIX,
    http_codes_of,
    scheduler_of,
    split_backend_name,
    split_frontend_name,
)
from slbsync.targets.haproxy.render import ACL_MARK, ALPN_H2, INSERTED_COOKIE, MARK
from slbsync.targets.haproxy.tls import OwnedCertificate, name_of

_REDIRECT_PORT = re.compile(r":(\d+)%\[capture\.req\.uri\]$")


@dataclass
class _Section:
    kind: str
    name: str
    line: int
    directives: list[tuple[int, list[str]]] = field(default_factory=list)
    marks: dict[str, str] = field(default_factory=dict)
    acl_marks: list[str] = field(default_factory=list)

    def first(self, keyword: str) -> list[str] | None:
        return next(
            (words for _, words in self.directives if words[0] == keyword), None
        )

    def all(self, keyword: str) -> list[list[str]]:
        return [words for _, words in self.directives if words[0] == keyword]


@dataclass(frozen=True)
class OwnedConfig:
    """What the owned file holds."""

    load_balancers: tuple[LoadBalancer, ...] = ()
    hard_stop_after: int | None = None
    unknown: tuple[str, ...] = ()  # "line N: directive" slbsync did not write
    certificates: tuple[OwnedCertificate, ...] = ()
    acls: tuple[Acl, ...] = ()
    cookie_key: str | None = None  # of sticky sessions, kept across renders


_KNOWN = {
    "global": {"server-state-file", "hard-stop-after"},
    "defaults": {"timeout", "load-server-state-from-file"},
    "frontend": {
        "use_backend",
        "mode",
        "bind",
        "timeout",
        "option",
        "default_backend",
        "description",
        "acl",
        "tcp-request",
        "http-request",
        "compression",
    },
    "backend": {
        "cookie",
        "dynamic-cookie-key",
        "stick-table",
        "stick",
        "mode",
        "balance",
        "hash-type",
        "option",
        "http-check",
        "timeout",
        "default-server",
        "server",
    },
}


class OwnedFileError(TargetError):
    """The owned file cannot be read back (edited by hand beyond repair)."""


def parse_owned(text: str, target: str, path: str = "owned file") -> OwnedConfig:
    """The load balancers in ``text``, named for ``target``."""
    sections = _sections(text)
    for section in sections:
        try:
            _check_section(section)
        except (ValueError, IndexError, KeyError) as err:
            raise OwnedFileError(
                f"{path}:{section.line}: cannot read {section.kind} "
                f"{section.name} back ({type(err).__name__}: {err}); slbsync "
                f"owns this file: put back {path}.previous, or delete the "
                "file and apply again"
            ) from err
    owned = _owned(sections, target)
    return replace(
        owned,
        certificates=_certificates(sections),
        acls=_acls(sections, target, path),
        cookie_key=_cookie_key(sections),
    )


def _certificates(sections: list[_Section]) -> tuple[OwnedCertificate, ...]:
    found = []
    for section in sections:
        for key, value in section.marks.items() if section.kind == "global" else ():
            if key.startswith("certificate."):
                kind, _, fingerprint = value.partition("/")
                name = key.removeprefix("certificate.")
                found.append(OwnedCertificate(name, kind, fingerprint))
    return tuple(found)


def _acls(sections: list[_Section], target: str, path: str) -> tuple[Acl, ...]:
    found = []
    for section in sections:
        for text in section.acl_marks:
            try:
                document = json.loads(text)
            except json.JSONDecodeError as err:
                raise OwnedFileError(
                    f"{path}:{section.line}: the ACL comment {text!r} is damaged "
                    f"({err}); slbsync owns this file: delete the file and apply "
                    "again"
                ) from err
            found.append(from_plain(Acl, {**document, "target": target}))
    return tuple(_as_served(acl, sections) for acl in found)


def _as_served(acl: Acl, sections: list[_Section]) -> Acl:
    """``acl`` with the entries a frontend really checks, when they differ.

    The comment keeps entry comments; the ``acl`` line is what HAProxy
    enforces, so a hand edit there shows up as drift.
    """
    recorded = [entry.cidr for entry in acl.entries]
    for section in sections:
        for words in section.all("acl") if section.kind == "frontend" else ():
            if len(words) > 2 and words[1] == f"{ACL_PREFIX}{acl.name}":
                served = [word for word in words[3:] if word != "--"]
                if served != recorded:
                    entries = tuple(AclEntry(cidr) for cidr in served)
                    return replace(acl, entries=entries)
    return acl


def _cookie_key(sections: list[_Section]) -> str | None:
    for section in sections:
        words = section.first("dynamic-cookie-key")
        if section.kind == "backend" and words and len(words) > 1:
            return words[1]
    return None


def _check_section(section: _Section) -> None:
    """Read what a section holds, so a bad value fails here, with its place."""
    if section.kind == "backend":
        _group("check", section)
        _check(section)
    elif section.kind == "frontend":
        parsed = split_frontend_name(section.name)
        if parsed is not None:
            _listener(parsed[1], parsed[2], section, {})


def _owned(sections: list[_Section], target: str) -> OwnedConfig:
    unknown = [
        f"line {number}: {' '.join(words)}"
        for section in sections
        for number, words in section.directives
        if words[0] not in _KNOWN.get(section.kind, set())
    ]
    backends = {s.name: s for s in sections if s.kind == "backend"}
    frontends = [s for s in sections if s.kind == "frontend"]
    groups: dict[str, list[ServerGroup]] = {}
    order: list[str] = []
    for section in backends.values():
        parsed = split_backend_name(section.name)
        if parsed is None:
            unknown.append(f"line {section.line}: backend {section.name}")
            continue
        lb_name, group_name = parsed
        groups.setdefault(lb_name, []).append(_group(group_name, section))
        order.append(lb_name)
    listeners: dict[str, list[Listener]] = {}
    for section in frontends:
        parsed_fe = split_frontend_name(section.name)
        if parsed_fe is None:
            unknown.append(f"line {section.line}: frontend {section.name}")
            continue
        lb_name = parsed_fe[0]
        listener = _listener(parsed_fe[1], parsed_fe[2], section, backends)
        listeners.setdefault(lb_name, []).append(listener)
        order.append(lb_name)
    load_balancers = tuple(
        LoadBalancer(
            name=name,
            target=target,
            server_groups=tuple(groups.get(name, ())),
            listeners=tuple(listeners.get(name, ())),
        )
        for name in dict.fromkeys(order)
    )
    return OwnedConfig(load_balancers, _hard_stop_after(sections), tuple(unknown))


def _sections(text: str) -> list[_Section]:
    sections: list[_Section] = []
    current: _Section | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            if current is not None and body.startswith(ACL_MARK):
                current.acl_marks.append(body.removeprefix(ACL_MARK).strip())
            elif current is not None and body.startswith(MARK):
                for pair in body.removeprefix(MARK).split():
                    key, _, value = pair.partition("=")
                    current.marks[key] = value
            continue
        words = line.split()
        if not raw[0].isspace() and (words[0] in _KNOWN or words[0] == "listen"):
            name = words[1] if len(words) > 1 else ""
            current = _Section(words[0], name, number)
            sections.append(current)
        elif current is not None:
            current.directives.append((number, words))
    return sections


def _hard_stop_after(sections: list[_Section]) -> int | None:
    for section in sections:
        words = section.first("hard-stop-after") if section.kind == "global" else None
        if words and len(words) > 1 and words[1].endswith("s"):
            return int(words[1].removesuffix("s"))
    return None


def _seconds(words: list[str] | None) -> int | None:
    if not words:
        return None
    return int(words[-1].removesuffix("s"))


def _timeout(section: _Section, which: str) -> int | None:
    for words in section.all("timeout"):
        if len(words) > 2 and words[1] == which:
            return _seconds(words)
    return None


def _group(name: str, section: _Section) -> ServerGroup:
    servers = []
    for words in section.all("server"):
        address, _, port = words[2].rpartition(":")
        weight = int(words[words.index("weight") + 1]) if "weight" in words else 1
        servers.append(
            Server(port=int(port), address=address, weight=weight, type=ServerType.IP)
        )
    return ServerGroup(name=name, servers=tuple(servers))


def _listener(
    protocol: str, port: int, section: _Section, backends: dict[str, _Section]
) -> Listener:
    backend_words = section.first("default_backend")
    backend = backends.get(backend_words[1]) if backend_words else None
    group = split_backend_name(backend_words[1]) if backend_words else None
    drain = section.marks.get("connection_drain")
    description = section.first("description")
    is_http = Protocol(protocol) in HTTP_PROTOCOLS
    listener = Listener(
        protocol=Protocol(protocol),
        port=port,
        server_group=group[1] if group else None,
        description=" ".join(description[1:]) if description else None,
        connection_drain=int(drain) if drain else None,
        established_timeout=None if is_http else _timeout(section, "client"),
        idle_timeout=_timeout(section, "http-keep-alive"),
        request_timeout=_timeout(section, "http-request"),
        x_forwarded_for=XForwardedFor()
        if ["option", "forwardfor"] in [words[:2] for words in section.all("option")]
        else None,
        acl=_acl_binding(section),
        gzip=True if section.first("compression") else None,
        redirect_to_port=_redirect_port(section),
        rules=_rules(section),
    )
    listener = _with_tls(listener, section)
    if backend is None:
        return listener
    balance = backend.first("balance")
    scheduler = scheduler_of(
        " ".join(balance[1:]) if balance else "roundrobin",
        backend.marks.get("scheduler"),
    )
    return replace(
        listener,
        scheduler=scheduler,
        health_check=_check(backend),
        sticky_session=_sticky(backend) if is_http else None,
        persistence_timeout=0 if is_http else _persistence(backend),
        proxy_protocol=not is_http and _sends_proxy(backend),
    )


def _with_tls(listener: Listener, section: _Section) -> Listener:
    """certificate, ca_certificate and http2 from an HTTPS ``bind`` line."""
    if listener.protocol != Protocol.HTTPS:
        return listener
    bind = " ".join(section.first("bind") or [])
    words = bind.split()

    def after(keyword: str) -> str | None:
        if keyword not in words[:-1]:
            return None
        return name_of(words[words.index(keyword) + 1])

    return replace(
        listener,
        certificate=after("crt"),
        ca_certificate=after("ca-file"),
        http2=ALPN_H2 in bind,
    )


def _acl_binding(section: _Section) -> AclBinding | None:
    for words in section.all("tcp-request"):
        if words[1:3] == ["connection", "reject"] and len(words) == 5:
            condition, name = words[3], words[4]
            if name.startswith(ACL_PREFIX):
                kind = "white" if condition == "unless" else "black"
                return AclBinding(name.removeprefix(ACL_PREFIX), kind)
    return None


def _rules(section: _Section) -> tuple[ForwardingRule, ...]:
    """Forwarding rules from their named ACLs and ``use_backend`` lines."""
    conditions: dict[str, str] = {}
    for words in section.all("acl"):
        if len(words) > 2 and words[1].startswith(RULE_PREFIX):
            conditions[words[1]] = " ".join(words[2:])
    rules = []
    for words in section.all("use_backend"):
        group = split_backend_name(words[1]) if len(words) > 3 else None
        names = [w for w in words[3:] if w.startswith(RULE_PREFIX)]
        if group is None or words[2] != "if" or not names:
            continue
        rule_name = names[0].removeprefix(RULE_PREFIX).rpartition(".")[0]
        domain = _domain_of(conditions.get(f"{RULE_PREFIX}{rule_name}.domain"))
        url = conditions.get(f"{RULE_PREFIX}{rule_name}.url", "")
        rules.append(
            ForwardingRule(
                name=rule_name,
                server_group=group[1],
                domain=domain,
                url=url.removeprefix("path_beg ") or None,
            )
        )
    return tuple(sorted(rules, key=lambda rule: rule.name))


def _domain_of(condition: str | None) -> str | None:
    if not condition:
        return None
    words = condition.split()
    return f"*{words[-1]}" if "end" in words else words[-1]


def _redirect_port(section: _Section) -> int | None:
    for words in section.all("http-request"):
        if words[1:3] == ["redirect", "location"] and len(words) > 3:
            match = _REDIRECT_PORT.search(words[3])
            if match:
                return int(match[1])
    return None


def _sends_proxy(backend: _Section) -> bool:
    servers = backend.all("server")
    marked = backend.marks.get("proxy_protocol") == "on"
    return marked and all("send-proxy" in words for words in servers)


def _persistence(backend: _Section) -> int:
    words = backend.first("stick-table")
    if not words or "expire" not in words[:-1]:
        return 0
    return int(words[words.index("expire") + 1].removesuffix("s"))


def _sticky(backend: _Section) -> StickySession | None:
    words = backend.first("cookie")
    if not words or len(words) < 3:
        return None
    if words[2] == "prefix":
        return StickySession(type="server", cookie=words[1])
    timeout = words[words.index("maxlife") + 1] if "maxlife" in words else None
    return StickySession(
        type="insert",
        cookie=None if words[1] == INSERTED_COOKIE else words[1],
        cookie_timeout=int(timeout.removesuffix("s")) if timeout else None,
    )


def _check(backend: _Section) -> HealthCheck:
    servers = backend.all("server")
    defaults = backend.first("default-server")
    if not defaults or (servers and not all("check" in s for s in servers)):
        return HealthCheck(enabled=False)
    params = dict(zip(defaults[1::2], defaults[2::2], strict=False))
    check = HealthCheck(
        enabled=True,
        type="tcp",
        interval=int(params["inter"].removesuffix("s")),
        timeout=_timeout(backend, "check") or HealthCheck().timeout,
        healthy_threshold=int(params["rise"]),
        unhealthy_threshold=int(params["fall"]),
        port=int(params["port"]) if "port" in params else None,
    )
    if ["option", "httpchk"] not in [words[:2] for words in backend.all("option")]:
        return check
    send: list[str] = []
    sent: dict[str, str] = {}
    codes = None
    for words in backend.all("http-check"):
        if words[1] == "send":
            sent = dict(zip(words[2::2], words[3::2], strict=False))
            send = words
        elif words[1] == "expect" and len(words) > 3:
            codes = http_codes_of(words[3])
    domain = send[send.index("Host") + 1] if "Host" in send else None
    return replace(
        check,
        type="http",
        method=sent.get("meth", "GET"),
        path=sent.get("uri", "/"),
        domain=domain,
        http_codes=codes or ("http_2xx",),
    )
