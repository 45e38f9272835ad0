"""The owned file: rendered from the spec model and read back into it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from slbsync.errors import TargetError
from slbsync.spec.model import (
    Acl,
    AclBinding,
    AclEntry,
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
from slbsync.targets.nginx.render import CertificateFiles, render

OPTIONS = NginxOptions(config_path="/unused", listen_address="127.0.0.1")
CERTS = {"edge-cert": CertificateFiles("/etc/tls/edge.pem", "/etc/tls/edge.key")}


def chat_edge() -> LoadBalancer:
    nodes = ServerGroup(
        "ws-nodes",
        servers=(
            Server(8080, address="10.0.0.11"),
            Server(8080, address="10.0.0.12", weight=50),
            Server(8080, address="10.0.0.13", weight=0),
            Server(8080, address="fd00::14", weight=10),
        ),
    )
    return LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(
            nodes,
            ServerGroup("spare", servers=(Server(9000, address="10.0.0.20"),)),
            ServerGroup("autoscaled", membership=Membership.EXTERNAL),
        ),
        listeners=(
            Listener(
                Protocol.TCP,
                443,
                "ws-nodes",
                scheduler="least_connections",
                established_timeout=3600,
                proxy_protocol=True,
                health_check=HealthCheck(interval=2, unhealthy_threshold=4, timeout=3),
            ),
            Listener(Protocol.UDP, 5353, "ws-nodes", scheduler="source_hash"),
            Listener(
                Protocol.HTTP,
                80,
                "ws-nodes",
                scheduler="round_robin",
                x_forwarded_for=XForwardedFor(proto=True),
                gzip=True,
                idle_timeout=15,
                request_timeout=600,
                health_check=HealthCheck(type="http", enabled=False),
            ),
            Listener(
                Protocol.HTTPS, 8443, "ws-nodes", certificate="edge-cert", http2=True
            ),
            Listener(Protocol.HTTP, 8080, "ws-nodes", redirect_to_port=8443),
            Listener(
                Protocol.HTTP,
                8000,
                "ws-nodes",
                rules=(
                    ForwardingRule("api", "spare", url="/api"),
                    ForwardingRule("admin", "spare", domain="admin.chat.test"),
                    ForwardingRule("m", "ws-nodes", domain="m.chat.test", url="/ws"),
                ),
            ),
        ),
    )


def round_trip(tmp_path: Path, *lbs: LoadBalancer) -> list[LoadBalancer]:
    path = tmp_path / "slbsync.conf"
    path.write_text(render([normalise_load_balancer(lb) for lb in lbs], CERTS, OPTIONS))
    names = {"/etc/tls/edge.pem": "edge-cert"}
    return read_owned_config(str(path), "edge", names).load_balancers


def test_rendered_file_reads_back_as_the_spec(tmp_path: Path) -> None:
    assert round_trip(tmp_path, chat_edge()) == [normalise_load_balancer(chat_edge())]


def test_render_is_deterministic() -> None:
    lb = normalise_load_balancer(chat_edge())
    assert render([lb], CERTS, OPTIONS) == render([lb], CERTS, OPTIONS)


def test_schedulers_map_to_nginx_directives() -> None:
    text = render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS)
    assert "least_conn;" in text
    assert "hash $remote_addr consistent;" in text
    assert "ip_hash" not in text


def test_every_upstream_has_a_zone() -> None:
    text = render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS)
    assert text.count("upstream slbsync_") == 8
    assert text.count("zone slbsync_") == 8


def test_weights_and_passive_checks_on_server_lines() -> None:
    text = render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS)
    tcp = text.split("upstream slbsync_chat-edge_tcp_443")[1].split("\n    }")[0]
    assert "server 10.0.0.12:8080 weight=50 max_fails=4 fail_timeout=8s;" in tcp
    assert "server 10.0.0.13:8080 down max_fails=4 fail_timeout=8s;" in tcp
    assert "server [fd00::14]:8080 weight=10 max_fails=4" in tcp
    http = text.split("upstream slbsync_chat-edge_http_80")[1].split("\n    }")[0]
    assert "server 10.0.0.11:8080 weight=100 max_fails=0;" in http


def test_redirect_listener_returns_301_to_https_port() -> None:
    text = render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS)
    assert "return 301 https://$host:8443$request_uri;" in text
    assert "slbsync_chat-edge_http_8080" not in text  # no upstream: no traffic


def test_rules_become_locations_and_named_servers() -> None:
    text = render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS)
    assert "location /api {" in text
    assert "proxy_pass http://slbsync_chat-edge_http_8000_rule_api;" in text
    assert text.count("server_name admin.chat.test;") == 1
    assert text.count("server_name m.chat.test;") == 1


def test_listen_flags_for_udp_and_https() -> None:
    text = render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS)
    assert "listen 127.0.0.1:5353 udp;" in text
    assert "listen 127.0.0.1:8443 ssl http2;" in text
    assert "ssl_certificate /etc/tls/edge.pem;" in text
    assert "proxy_set_header Upgrade $http_upgrade;" in text


def test_blocks_only_when_needed() -> None:
    tcp_only = LoadBalancer(
        name="tcp",
        target="edge",
        server_groups=(ServerGroup("g", servers=(Server(1, address="10.0.0.1"),)),),
        listeners=(Listener(Protocol.TCP, 9000, "g"),),
    )
    text = render([normalise_load_balancer(tcp_only)], {}, OPTIONS)
    assert "stream {" in text
    assert "http {" not in text


def test_hand_edited_weight_reads_as_drift(tmp_path: Path) -> None:
    path = tmp_path / "slbsync.conf"
    path.write_text(render([normalise_load_balancer(chat_edge())], CERTS, OPTIONS))
    path.write_text(path.read_text().replace("weight=50", "weight=7"))

    live = read_owned_config(str(path), "edge").load_balancers[0]

    group = live.server_group("ws-nodes")
    assert group is not None
    weights = {s.address: s.weight for s in group.servers}
    assert weights["10.0.0.12"] == 7


def _stream_only(lb_name: str) -> LoadBalancer:
    servers = (Server(7000, address="10.0.0.31"), Server(7000, address="10.0.0.32"))
    return LoadBalancer(
        name=lb_name,
        target="edge",
        server_groups=(ServerGroup("push", servers=servers),),
        listeners=(Listener(Protocol.TCP, 7443, "push"),),
    )


def test_deleted_server_block_keeps_its_group_from_the_upstream(
    tmp_path: Path,
) -> None:
    path = tmp_path / "slbsync.conf"
    path.write_text(
        render([normalise_load_balancer(_stream_only("push"))], {}, OPTIONS)
    )
    text = path.read_text()
    block = "    server {\n        listen 127.0.0.1:7443;\n"
    start = text.index(block)
    path.write_text(text[:start] + text[text.index("\n    }\n", start) + 7 :])

    (live,) = read_owned_config(str(path), "edge").load_balancers

    assert live.listeners == ()
    assert (
        live.server_groups
        == normalise_load_balancer(_stream_only("push")).server_groups
    )


def test_leftover_upstream_of_an_unknown_load_balancer_is_not_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "slbsync.conf"
    path.write_text(
        render([normalise_load_balancer(_stream_only("gone"))], {}, OPTIONS)
    )
    text = path.read_text()
    marker = next(
        line for line in text.splitlines() if "slbsync load_balancer:" in line
    )
    block = "    server {\n        listen 127.0.0.1:7443;\n"
    start = text.index(block)
    edited = text[:start] + text[text.index("\n    }\n", start) + 7 :]
    path.write_text(edited.replace(marker + "\n", ""))

    assert read_owned_config(str(path), "edge").load_balancers == []


def test_missing_file_means_nothing_is_live(tmp_path: Path) -> None:
    owned = read_owned_config(str(tmp_path / "absent.conf"), "edge")
    assert owned.load_balancers == []


def test_damaged_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "slbsync.conf"
    path.write_text("stream {\n    upstream u {\n        server 10.0.0.1:80\n}\n")

    with pytest.raises(TargetError) as caught:
        read_owned_config(str(path), "edge")

    assert "line" in str(caught.value)
    assert str(path) in str(caught.value)


OFFICE = Acl("office", "edge", (AclEntry("10.0.0.0/8", "vpn"), AclEntry("fd00::/8")))
BLOCKED = Acl("blocked", "edge", (AclEntry("192.0.2.7/32"),))


def guarded_edge() -> LoadBalancer:
    """chat_edge with a white list on tcp/443 and a black list on http/8000."""
    lb = chat_edge()
    listeners = []
    for listener in lb.listeners:
        if listener.key == ("tcp", 443):
            listener = replace(listener, acl=AclBinding("office", "white"))
        elif listener.key == ("http", 8000):
            listener = replace(listener, acl=AclBinding("blocked", "black"))
        listeners.append(listener)
    return normalise_load_balancer(replace(lb, listeners=tuple(listeners)))


def render_guarded(path: Path) -> None:
    acls = {"office": OFFICE, "blocked": BLOCKED}
    path.write_text(render([guarded_edge()], CERTS, OPTIONS, acls))


def test_white_list_allows_its_entries_then_denies_all() -> None:
    acls = {"office": OFFICE, "blocked": BLOCKED}
    text = render([guarded_edge()], CERTS, OPTIONS, acls)

    tcp = text.split("listen 127.0.0.1:443;")[1].split("proxy_pass")[0]
    assert tcp.split() == [
        *("#", "slbsync", "listener", "acl:", '{"acl":', '"office"}'),
        *("allow", "10.0.0.0/8;", "allow", "fd00::/8;", "deny", "all;"),
    ]
    http = text.split("listen 127.0.0.1:8000;")[1].split("location /")[0]
    assert "deny 192.0.2.7/32;\n        allow all;" in http
    # Each domain rule's server block carries the list too.
    assert text.count("deny 192.0.2.7/32;") == 3


def test_acls_and_bindings_read_back_as_rendered(tmp_path: Path) -> None:
    path = tmp_path / "slbsync.conf"
    render_guarded(path)

    owned = read_owned_config(str(path), "edge", {"/etc/tls/edge.pem": "edge-cert"})

    assert owned.load_balancers == [guarded_edge()]
    assert owned.acls == [BLOCKED, OFFICE]  # entry comments kept


def test_hand_added_allow_line_reads_as_a_changed_acl(tmp_path: Path) -> None:
    path = tmp_path / "slbsync.conf"
    render_guarded(path)
    text = path.read_text()
    path.write_text(text.replace("deny all;", "allow 127.0.0.1;\n        deny all;"))

    owned = read_owned_config(str(path), "edge")

    office = next(acl for acl in owned.acls if acl.name == "office")
    cidrs = [entry.cidr for entry in office.entries]
    assert cidrs == ["10.0.0.0/8", "fd00::/8", "127.0.0.1"]


def test_hand_edited_catch_all_reads_as_a_changed_binding(tmp_path: Path) -> None:
    path = tmp_path / "slbsync.conf"
    render_guarded(path)
    path.write_text(path.read_text().replace("deny all;", "allow all;"))

    lb = read_owned_config(str(path), "edge").load_balancers[0]

    tcp = next(x for x in lb.listeners if x.key == ("tcp", 443))
    assert tcp.acl == AclBinding(
        "office", "hand-edited: allow 10.0.0.0/8; allow fd00::/8; allow all"
    )


def test_hand_edit_in_a_domain_rules_server_reads_as_drift(tmp_path: Path) -> None:
    path = tmp_path / "slbsync.conf"
    render_guarded(path)
    head, _, tail = path.read_text().rpartition("deny 192.0.2.7/32;")
    path.write_text(head + "deny 192.0.2.8/32;" + tail)  # the m.chat.test server

    owned = read_owned_config(str(path), "edge")

    blocked = next(acl for acl in owned.acls if acl.name == "blocked")
    assert [entry.cidr for entry in blocked.entries] == ["192.0.2.8/32"]

    # Its catch-all removed there: the listener's binding reads as edited.
    head, _, tail = path.read_text().rpartition("allow all;")
    path.write_text(head + tail)
    lb = read_owned_config(str(path), "edge").load_balancers[0]
    http = next(x for x in lb.listeners if x.key == ("http", 8000))
    assert http.acl == AclBinding("blocked", "hand-edited: deny 192.0.2.8/32")
