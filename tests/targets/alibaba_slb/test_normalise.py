"""SLB's vocabulary and defaults, and the listener wire mapping, without a server."""

from __future__ import annotations

from dataclasses import replace

from slbsync.spec.model import (
    AclBinding,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    StickySession,
    XForwardedFor,
)
from slbsync.targets.alibaba_slb.client import build_request, method_name
from slbsync.targets.alibaba_slb.names import (
    certificate_spec_name,
    certificate_upload_name,
)
from slbsync.targets.alibaba_slb.normalise import (
    mask_unset,
    normalise_listener,
    normalise_load_balancer,
)
from slbsync.targets.alibaba_slb.wire import (
    CONFIG_KEYS,
    listener_from_wire,
    listener_params,
)


def by_name(kind: str, name: str) -> str:
    return f"{kind}-{name}"


def names(kind: str, live_id: str) -> str | None:
    return live_id.split("-", 1)[1] if live_id.startswith(f"{kind}-") else None


def as_described(listener: Listener) -> dict[str, object]:
    """What DescribeLoadBalancerListeners reports for a listener created with
    ``listener_params``: ids and common fields on the item, knobs in the
    protocol's config, the health check switch named HealthCheck."""
    params = listener_params(listener, by_name)
    top = ("ListenerPort", "Bandwidth", "Scheduler", "Description", "VServerGroupId",
           "BackendServerPort", "AclStatus", "AclType", "AclId")  # fmt: skip
    item: dict[str, object] = {k: params[k] for k in top if k in params}
    config = {k: v for k, v in params.items() if k not in top}
    if "HealthCheckSwitch" in config:
        config["HealthCheck"] = config.pop("HealthCheckSwitch")
    item["ListenerProtocol"] = str(listener.protocol)
    item[CONFIG_KEYS[Protocol(listener.protocol)]] = config
    return item


def test_native_schedulers_read_as_portable_names() -> None:
    tcp = Listener(protocol=Protocol.TCP, port=80, server_group="g", scheduler="wlc")
    assert normalise_listener(tcp).scheduler == "least_connections"
    assert normalise_listener(replace(tcp, scheduler="sch")).scheduler == "source_hash"
    assert normalise_listener(replace(tcp, scheduler="tch")).scheduler == "tch"
    params = listener_params(replace(tcp, scheduler="round_robin"), by_name)
    assert params["Scheduler"] == "rr"


def test_health_check_keeps_only_what_its_type_uses() -> None:
    check = HealthCheck(type="tcp", path="/x", method="get", port=8080)
    listener = Listener(
        protocol=Protocol.TCP, port=80, backend_port=8080, health_check=check
    )

    normal = normalise_listener(listener).health_check

    assert (normal.path, normal.method, normal.port) == (None, None, None)
    off = normalise_listener(
        replace(listener, health_check=HealthCheck(enabled=False, interval=9))
    )
    assert off.health_check == HealthCheck(enabled=False, type="tcp")


def test_every_knob_reads_back_as_it_was_written() -> None:
    listeners = [
        Listener(
            protocol=Protocol.TCP,
            port=443,
            server_group="ws",
            scheduler="least_connections",
            connection_drain=300,
            established_timeout=600,
            persistence_timeout=30,
            proxy_protocol=True,
            acl=AclBinding(acl="office", type="black"),
            health_check=HealthCheck(
                type="http", path="/h", domain="d.example", interval=4
            ),
        ),
        Listener(
            protocol=Protocol.UDP,
            port=53,
            server_group="dns",
            health_check=HealthCheck(type="udp", udp_request="ping", udp_expect="pong"),
        ),
        Listener(
            protocol=Protocol.HTTPS,
            port=8443,
            server_group="api",
            certificate="web",
            ca_certificate="ca",
            http2=False,
            tls_cipher_policy="tls_cipher_policy_1_2",
            sticky_session=StickySession(type="server", cookie="SID"),
            x_forwarded_for=XForwardedFor(proto=True, slb_ip=True),
            gzip=False,
            idle_timeout=20,
            request_timeout=30,
            health_check=HealthCheck(
                type="http", path="/ready", http_codes=("http_3xx", "http_2xx")
            ),
        ),
        Listener(
            protocol=Protocol.HTTP,
            port=80,
            redirect_to_port=8443,
            health_check=HealthCheck(type="http"),
        ),
    ]
    for listener in listeners:
        read = listener_from_wire(as_described(listener), names)
        desired = normalise_listener(listener)
        live = normalise_listener(read)
        masked = mask_unset(
            LoadBalancer(name="x", target="t", listeners=(live,)),
            LoadBalancer(name="x", target="t", listeners=(desired,)),
        ).listeners[0]
        assert masked == desired, listener.label


def test_unset_fields_do_not_compare_but_off_fields_do() -> None:
    desired = normalise_load_balancer(LoadBalancer(name="x", target="t"))
    live = replace(desired, resource_group_id="rg-default", deletion_protection=True)

    masked = mask_unset(live, desired)

    assert masked.resource_group_id is None  # the spec leaves it to the cloud
    assert masked.deletion_protection  # false in the spec means off


def test_pay_by_clcu_has_no_spec_and_traffic_billing_no_bandwidth() -> None:
    lb = LoadBalancer(name="x", target="t", spec="slb.lcu.elastic", bandwidth=10)
    normal = normalise_load_balancer(lb)
    assert (normal.spec, normal.bandwidth) == (None, None)


def test_certificate_versions_map_back_to_the_spec_name() -> None:
    upload = certificate_upload_name("web-tls", "AB:CD:EF:01:23:45:67:89:aa")
    assert upload == "web-tls-abcdef012345"
    assert certificate_spec_name(upload) == "web-tls"
    assert certificate_spec_name("hand-made") == "hand-made"


def test_sdk_methods_and_lower_case_wire_names_resolve() -> None:
    assert method_name("CreateLoadBalancerHTTPSListener") == (
        "create_load_balancer_httpslistener"
    )
    assert method_name("UploadCACertificate") == "upload_cacertificate"
    request = build_request(
        "CreateLoadBalancerUDPListener",
        {"HealthCheckInterval": 3, "HealthCheckReq": "hi", "ListenerPort": 53},
    )
    assert request.to_map()["healthCheckInterval"] == 3
    assert request.to_map()["healthCheckReq"] == "hi"
