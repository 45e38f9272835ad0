"""Every listener knob survives a create and reads back equal: no perpetual diff."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    StickySession,
    XForwardedFor,
)
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.targets.alibaba_slb.certs import write_certificate
from tests.targets.alibaba_slb.conftest import converge, plan, spec_of


def test_every_protocols_knobs_plan_clean_after_apply(
    target: AlibabaSlbTarget, tmp_path: Path
) -> None:
    cert = write_certificate(tmp_path, "web", "chat.example.com")
    listeners = (
        Listener(
            protocol=Protocol.TCP,
            port=443,
            server_group="ws",
            scheduler="source_hash",
            description="websocket",
            persistence_timeout=120,
            established_timeout=600,
            connection_drain=60,
            proxy_protocol=True,
            health_check=HealthCheck(
                type="http",
                path="/ping",
                domain="chat.example.com",
                port=8081,
                http_codes=("http_2xx", "http_3xx"),
                interval=3,
                timeout=4,
                healthy_threshold=2,
                unhealthy_threshold=5,
            ),
        ),
        Listener(
            protocol=Protocol.UDP,
            port=443,
            server_group="ws",
            scheduler="qch",
            health_check=HealthCheck(type="udp", udp_request="hello", udp_expect="ok"),
        ),
        Listener(
            protocol=Protocol.HTTP,
            port=80,
            redirect_to_port=8443,
            health_check=HealthCheck(type="http"),
        ),
        Listener(
            protocol=Protocol.HTTP,
            port=8080,
            server_group="ws",
            scheduler="round_robin",
            sticky_session=StickySession(type="server", cookie="SESSION"),
            x_forwarded_for=XForwardedFor(slb_ip=True, proto=True),
            gzip=False,
            idle_timeout=30,
            request_timeout=90,
            health_check=HealthCheck(type="http", path="/health", method="get"),
        ),
        Listener(
            protocol=Protocol.HTTPS,
            port=8443,
            server_group="ws",
            certificate="web",
            http2=False,
            tls_cipher_policy="tls_cipher_policy_1_2",
            sticky_session=StickySession(type="insert", cookie_timeout=3600),
            health_check=HealthCheck(enabled=False, type="http"),
        ),
    )
    listeners = tuple(replace(li, bandwidth=10) for li in listeners)
    lb = LoadBalancer(
        name="knobs",
        target="cloud",
        spec="slb.s2.small",
        instance_charge_type="PayBySpec",
        internet_charge_type="paybybandwidth",
        bandwidth=50,
        server_groups=(
            ServerGroup(
                name="ws",
                servers=(
                    Server(port=8080, id="i-a", weight=0, description="draining"),
                    Server(port=8080, id="eni-b", type="eni", address="10.0.0.5"),
                ),
            ),
        ),
        listeners=listeners,
    )
    spec = spec_of(lb, certificates=(cert,))
    assert target.validate(spec) == []

    converge(target, spec)

    live, again = plan(target, spec)
    assert again == []
    live_lb = live.load_balancer("knobs")
    assert live_lb is not None
    assert len(live_lb.running) == 5
