"""How the spec's vocabulary maps onto HAProxy's, in both directions.

Names: HAProxy proxy names share one namespace per process, so a frontend
is ``<load balancer>:<protocol>:<port>`` and a backend
``<load balancer>:<server group>``; ``:`` never appears in a spec name (the
validator checks), so names split back without guessing. A server is named
``<address>:<port>``, its identity: an address change is a new server, which
also keeps HAProxy's server-state file from overriding a new address with
an old one on reload.

Weights: SLB weights run 0 to 100 and HAProxy's 0 to 256, so a weight maps
unchanged. Weight 0 means no new connections on both.
"""

from __future__ import annotations

import re

from slbsync.spec.model import Listener, Protocol, Scheduler, Server

DEFAULTS_NAME = "slbsync"
"""The named ``defaults`` section of the owned file; its proxies use it."""

BALANCE_OF = {
    Scheduler.ROUND_ROBIN: "roundrobin",
    Scheduler.WEIGHTED_ROUND_ROBIN: "roundrobin",
    Scheduler.LEAST_CONNECTIONS: "leastconn",
    Scheduler.SOURCE_HASH: "source",
}

NATIVE_SCHEDULERS = {
    "roundrobin": Scheduler.WEIGHTED_ROUND_ROBIN,
    "leastconn": Scheduler.LEAST_CONNECTIONS,
    "source": Scheduler.SOURCE_HASH,
}
"""HAProxy names a spec may use that have a portable equivalent."""

HASH_BALANCES = ("source", "uri", "url_param", "hdr(", "rdp-cookie")
"""Hash-based algorithms: rendered with ``hash-type consistent``.

HAProxy's default map-based hash is static: it refuses dynamic servers and
any weight but 0% and 100%. The consistent hash takes both, and moves only
the clients of a server that leaves.
"""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
"""Spec names that are safe in HAProxy proxy names and runtime commands."""

MAX_WEIGHT = 100


HTTP_PROTOCOLS = (Protocol.HTTP, Protocol.HTTPS)

ACL_PREFIX = "slbsync.acl."
"""HAProxy ACL names of spec ACLs: ``slbsync.acl.<acl name>``."""


def mode_of(protocol: str) -> str:
    """``http`` for HTTP and HTTPS listeners (TLS ends in HAProxy), else ``tcp``."""
    return "http" if protocol in HTTP_PROTOCOLS else "tcp"


RULE_PREFIX = "slbsync.rule."
"""HAProxy ACL names of forwarding rules: ``slbsync.rule.<rule>.domain|url``."""


def acl_name(spec_name: str) -> str:
    return f"{ACL_PREFIX}{spec_name}"


def groups_of(listener: Listener) -> list[str]:
    """The groups a listener sends traffic to: its own, then its rules'."""
    if listener.redirect_to_port is not None:
        return []
    names = [listener.server_group] if listener.server_group else []
    names += [rule.server_group for rule in listener.rules]
    return list(dict.fromkeys(names))


def frontend_name(load_balancer: str, protocol: str, port: int) -> str:
    return f"{load_balancer}:{protocol}:{port}"


def backend_name(load_balancer: str, group: str) -> str:
    return f"{load_balancer}:{group}"


def split_frontend_name(name: str) -> tuple[str, str, int] | None:
    """(load balancer, protocol, port) of a frontend slbsync named, else None."""
    parts = name.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        return None
    return parts[0], parts[1], int(parts[2])


def split_backend_name(name: str) -> tuple[str, str] | None:
    """(load balancer, server group) of a backend slbsync named, else None."""
    parts = name.split(":")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0], parts[1]


def server_name(server: Server) -> str:
    return f"{server.address}:{server.port}"


def server_endpoint(server: Server) -> str:
    """``address:port`` as HAProxy parses it (the last colon splits IPv6)."""
    return f"{server.address}:{server.port}"


def normalise_scheduler(scheduler: str) -> str:
    """The portable name where HAProxy's has one; other native names as is."""
    if scheduler in set(Scheduler):
        return str(Scheduler(scheduler))
    native = NATIVE_SCHEDULERS.get(scheduler)
    return str(native) if native else scheduler


def balance_of(scheduler: str) -> str:
    """The ``balance`` argument for a (normalised) scheduler."""
    if scheduler in set(Scheduler):
        return BALANCE_OF[Scheduler(scheduler)]
    return scheduler


def scheduler_of(balance: str, recorded: str | None) -> str:
    """The scheduler a ``balance`` line stands for.

    ``roundrobin`` serves both round-robin names; the owned file records
    which one the spec used (``recorded``), trusted only when it agrees with
    the ``balance`` line.
    """
    if recorded and balance_of(normalise_scheduler(recorded)) == balance:
        return normalise_scheduler(recorded)
    return normalise_scheduler(balance)


def is_hash_balance(balance: str) -> bool:
    return balance.startswith(HASH_BALANCES)


def status_regex(http_codes: tuple[str, ...]) -> str:
    """``("http_2xx", "http_3xx")`` -> ``^[23]``, for ``http-check expect``."""
    digits = sorted({code.removeprefix("http_")[0] for code in http_codes})
    return f"^[{''.join(digits)}]"


def http_codes_of(regex: str) -> tuple[str, ...] | None:
    """The inverse of ``status_regex``; None for a pattern it did not write."""
    match = re.fullmatch(r"\^\[([1-5]+)\]", regex)
    if match is None:
        return None
    return tuple(f"http_{digit}xx" for digit in sorted(set(match[1])))
