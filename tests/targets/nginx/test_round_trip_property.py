"""Property: any load balancer nginx can hold reads back from its file as it was."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from hypothesis import HealthCheck as Checks
from hypothesis import given, settings
from hypothesis import strategies as st

from slbsync.spec.model import (
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Membership,
    Protocol,
    Server,
    ServerGroup,
    XForwardedFor,
)
from slbsync.targets.nginx.mapping import normalise_load_balancer
from slbsync.targets.nginx.options import NginxOptions
from slbsync.targets.nginx.read import read_owned_config
from slbsync.targets.nginx.render import held_back, render

OPTIONS = NginxOptions(config_path="/unused", listen_address="127.0.0.1")
GROUPS = ("ws", "api", "spare")
NAME_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789-"
names = st.text(alphabet=NAME_CHARACTERS, min_size=1, max_size=12)
forwarded = st.none() | st.builds(XForwardedFor, proto=st.booleans())

servers = st.builds(
    Server,
    port=st.integers(1, 65535),
    address=st.ip_addresses(v=4).map(str),
    weight=st.integers(0, 100),
)
checks = st.builds(
    HealthCheck,
    enabled=st.booleans(),
    interval=st.integers(1, 50),
    timeout=st.integers(1, 300),
    unhealthy_threshold=st.integers(1, 10),
)
schedulers = st.sampled_from(
    ["round_robin", "weighted_round_robin", "least_connections", "source_hash"]
)


@st.composite
def listeners(draw: st.DrawFn, port: int) -> Listener:
    protocol = draw(st.sampled_from([Protocol.TCP, Protocol.UDP, Protocol.HTTP]))
    common = {
        "server_group": draw(st.sampled_from(GROUPS)),
        "scheduler": draw(schedulers),
        "health_check": draw(checks),
    }
    if protocol == Protocol.HTTP:
        rules = draw(
            st.lists(
                st.builds(
                    ForwardingRule,
                    name=names,
                    server_group=st.sampled_from(GROUPS),
                    url=st.sampled_from(["/api", "/ws", "/a/b"]),
                ),
                max_size=2,
                unique_by=lambda rule: (rule.name, rule.url),
            )
        )
        return Listener(
            protocol,
            port,
            x_forwarded_for=draw(forwarded),
            gzip=draw(st.booleans()),
            idle_timeout=draw(st.none() | st.integers(1, 600)),
            request_timeout=draw(st.none() | st.integers(1, 3600)),
            rules=tuple(rules),
            **common,
        )
    return Listener(
        protocol,
        port,
        established_timeout=draw(st.none() | st.integers(1, 3600)),
        proxy_protocol=draw(st.booleans()),
        **common,
    )


@st.composite
def load_balancers(draw: st.DrawFn) -> LoadBalancer:
    groups = []
    for name in GROUPS:
        # An external group may be empty (its listeners then wait); a static
        # one may not (apply refuses it before rendering).
        membership = draw(st.sampled_from([Membership.STATIC, Membership.EXTERNAL]))
        fewest = 0 if membership == Membership.EXTERNAL else 1
        members = st.lists(servers, min_size=fewest, max_size=4, unique_by=_key)
        groups.append(ServerGroup(name, membership, tuple(draw(members))))
    ports = draw(st.lists(st.integers(1, 65535), max_size=4, unique=True))
    return LoadBalancer(
        name=draw(names),
        target="edge",
        server_groups=tuple(groups),
        listeners=tuple(draw(listeners(port)) for port in ports),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[Checks.too_slow])
@given(load_balancers())
def test_rendered_file_reads_back_unchanged(lb: LoadBalancer) -> None:
    rule_names = [r.name for x in lb.listeners for r in x.rules]
    if len(rule_names) != len(set(rule_names)):
        return  # rule names are unique per listener in a real spec
    normalised = normalise_load_balancer(lb)
    waiting = held_back(normalised)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "slbsync.conf"
        path.write_text(render([normalised], {}, OPTIONS))
        owned = read_owned_config(str(path), "edge")

    # Listeners waiting for an external group's first server are not live.
    served = tuple(x for x in normalised.listeners if x not in waiting)
    assert owned.load_balancers == [replace(normalised, listeners=served)]
    assert owned.held_back.get(normalised.name, []) == waiting


def _key(server: Server) -> tuple[str, int]:
    return server.key
