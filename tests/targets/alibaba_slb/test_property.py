"""Property: from any live state, applying the plan leaves the next plan empty.

Random specs are applied one after another to the same load balancer, so
each plan starts from what the previous spec left: groups come and go,
members change weight and leave, listeners change protocol and knobs, https
listeners come with a certificate from PEM files that may be another one
than last time (a rotation), and http listeners may redirect to them.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck as Health
from hypothesis import given, settings
from hypothesis import strategies as st

from slbsync.spec.model import (
    Certificate,
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    StickySession,
)
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import EmulatorHandle
from tests.targets.alibaba_slb.certs import write_certificate
from tests.targets.alibaba_slb.conftest import apply_all, plan, spec_of, target_spec

GROUPS = ("a", "b", "c")
SCHEDULERS = {
    Protocol.TCP: ("round_robin", "weighted_round_robin", "least_connections", "tch"),
    Protocol.UDP: ("round_robin", "source_hash", "qch"),
    Protocol.HTTP: ("round_robin", "weighted_round_robin", "least_connections"),
    Protocol.HTTPS: ("round_robin", "weighted_round_robin", "least_connections"),
}
CIPHER_POLICIES = (None, "tls_cipher_policy_1_0", "tls_cipher_policy_1_2")


@st.composite
def groups(draw: st.DrawFn) -> tuple[ServerGroup, ...]:
    names = draw(st.sets(st.sampled_from(GROUPS), min_size=1))
    result = []
    for name in sorted(names):
        ids = draw(st.sets(st.integers(0, 30), max_size=25))
        servers = tuple(
            Server(
                port=8080, id=f"i-{n:02d}", weight=draw(st.sampled_from((0, 50, 100)))
            )
            for n in sorted(ids)
        )
        result.append(ServerGroup(name=name, servers=servers))
    return tuple(result)


@st.composite
def listener(draw: st.DrawFn, port: int, group_names: list[str]) -> Listener:
    protocol = draw(st.sampled_from(tuple(SCHEDULERS)))
    common = {
        "protocol": protocol,
        "port": port,
        "server_group": draw(st.sampled_from(group_names)),
        "scheduler": draw(st.sampled_from(SCHEDULERS[protocol])),
    }
    if protocol == Protocol.TCP:
        return Listener(
            **common,
            connection_drain=draw(st.sampled_from((None, 10, 300))),
            persistence_timeout=draw(st.sampled_from((0, 60))),
            health_check=HealthCheck(interval=draw(st.integers(1, 5))),
        )
    if protocol == Protocol.UDP:
        return Listener(**common, health_check=HealthCheck(type="udp"))
    if protocol == Protocol.HTTPS:
        common.update(
            certificate="web",
            http2=draw(st.sampled_from((None, True, False))),
            tls_cipher_policy=draw(st.sampled_from(CIPHER_POLICIES)),
        )
    rules = tuple(
        ForwardingRule(
            name=f"r{n}",
            server_group=draw(st.sampled_from(group_names)),
            url=f"/p{n}{draw(st.sampled_from(('', 'x')))}",
        )
        for n in range(draw(st.integers(0, 3)))
    )
    sticky = draw(
        st.sampled_from((None, StickySession(type="insert", cookie_timeout=60)))
    )
    return Listener(
        **common,
        health_check=HealthCheck(type="http", enabled=draw(st.booleans())),
        sticky_session=sticky,
        rules=rules,
    )


def redirecting(draw: st.DrawFn, listeners: list[Listener]) -> list[Listener]:
    """Some http listeners turned into redirects to an https one."""
    https = [li.port for li in listeners if li.protocol == Protocol.HTTPS]
    result = []
    for li in listeners:
        if li.protocol == Protocol.HTTP and https and draw(st.booleans()):
            li = Listener(
                protocol=Protocol.HTTP,
                port=li.port,
                redirect_to_port=draw(st.sampled_from(https)),
                health_check=HealthCheck(type="http"),
            )
        result.append(li)
    return result


@st.composite
def load_balancers(draw: st.DrawFn) -> LoadBalancer:
    server_groups = draw(groups())
    names = [g.name for g in server_groups]
    ports = draw(st.sets(st.sampled_from((80, 443, 8080)), max_size=3))
    listeners = [draw(listener(port, names)) for port in sorted(ports)]
    return LoadBalancer(
        name="prop",
        target="cloud",
        tags=draw(st.sampled_from(((), (("app", "chat"),), (("env", "x"),)))),
        deletion_protection=draw(st.booleans()),
        server_groups=server_groups,
        listeners=tuple(redirecting(draw, listeners)),
    )


def test_any_sequence_of_specs_converges(
    cloud_credentials: EmulatorHandle, tmp_path: Path
) -> None:
    target = AlibabaSlbTarget(target_spec(cloud_credentials))
    # Two certificates of one spec name: drawing the other one is a rotation.
    certificates = [
        write_certificate(tmp_path, "web", f"{host}.example.com")
        for host in ("chat", "chat2")
    ]

    @settings(max_examples=80, deadline=None, suppress_health_check=list(Health))
    @given(load_balancers(), st.sampled_from(certificates))
    def step(lb: LoadBalancer, certificate: Certificate) -> None:
        spec = spec_of(lb, certificates=(certificate,))
        assert target.validate(spec) == []
        _, changes = plan(target, spec, prune=True)
        apply_all(target, changes)  # a call the emulator rejects fails here
        _, again = plan(target, spec, prune=True)
        assert [c.summary for c in again] == []

    step()
