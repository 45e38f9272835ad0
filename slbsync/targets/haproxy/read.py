"""What is live on an HAProxy: the owned file, corrected by the runtime state.

The file gives the structure (frontends, backends, balance, checks). The
runtime API gives membership and weights as they are served right now, so
a weight set or a server added over the socket behind slbsync's back shows
up in the next plan. A server in drain or maintenance takes no new
connections; it reads as weight 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from slbsync.spec.model import LoadBalancer, Server, ServerGroup, ServerType
from slbsync.targets.haproxy.mapping import backend_name
from slbsync.targets.haproxy.options import HaproxyOptions
from slbsync.targets.haproxy.parse import OwnedConfig, parse_owned
from slbsync.targets.haproxy.runtime_api import (
    RuntimeApi,
    ServerState,
    SocketUnreachableError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveView:
    """The load balancers as live, and how they were read."""

    load_balancers: tuple[LoadBalancer, ...]
    owned: OwnedConfig
    runtime_reachable: bool
    live_backends: frozenset[str]  # backends the running HAProxy has
    reads: tuple[tuple[str, int], ...]


def read_live(target: str, options: HaproxyOptions, runtime: RuntimeApi) -> LiveView:
    reads = [("read owned file", 1)]
    path = options.config_path
    text = path.read_text() if path.exists() else ""
    owned = parse_owned(text, target, str(path))
    for item in owned.unknown:
        log.warning(
            "haproxy: %s %s was not written by slbsync; the next apply drops it",
            path,
            item,
        )
    try:
        states = runtime.servers_state()
        backends = runtime.backends()
    except SocketUnreachableError:
        log.warning(
            "haproxy: runtime socket %s does not answer; reading %s only",
            options.runtime_socket,
            path,
        )
        lbs = owned.load_balancers
        return LiveView(lbs, owned, False, frozenset(), tuple(reads))
    reads += [("show servers state", 1), ("show backend", 1)]
    by_backend: dict[str, list[ServerState]] = {name: [] for name in backends}
    for state in states:
        by_backend.setdefault(state.backend, []).append(state)
    merged = tuple(
        _with_runtime(lb, by_backend, path.name) for lb in owned.load_balancers
    )
    return LiveView(merged, owned, True, frozenset(by_backend), tuple(reads))


def _with_runtime(
    lb: LoadBalancer, by_backend: dict[str, list[ServerState]], file_name: str
) -> LoadBalancer:
    groups = []
    for group in lb.server_groups:
        backend = backend_name(lb.name, group.name)
        if backend not in by_backend:
            log.warning(
                "haproxy: backend %s is in %s but not running; is that file "
                "loaded (-f) and HAProxy reloaded?",
                backend,
                file_name,
            )
            groups.append(group)
            continue
        servers = tuple(_server(state) for state in by_backend.get(backend, []))
        groups.append(replace(group, servers=servers))
    return replace(lb, server_groups=tuple(groups))


def _server(state: ServerState) -> Server:
    weight = state.weight if not (state.is_drain or state.is_maint) else 0
    return Server(
        port=state.port, address=state.address, weight=weight, type=ServerType.IP
    )


def group_of(lbs: tuple[LoadBalancer, ...], lb: str, group: str) -> ServerGroup | None:
    found = next((item for item in lbs if item.name == lb), None)
    return found.server_group(group) if found else None
