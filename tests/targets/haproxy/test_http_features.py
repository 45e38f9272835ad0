"""Redirects, sticky cookies, ACLs and gzip through a real HAProxy."""

from __future__ import annotations

import gzip
import http.client
from collections import Counter
from dataclasses import replace
from pathlib import Path

from slbsync.diff.changes import ChangeOp, ResourceKind
from slbsync.spec.model import (
    Acl,
    AclBinding,
    AclEntry,
    ForwardingRule,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
    StickySession,
)
from tests.backends import Backend, free_port, wait_for_port
from tests.targets.haproxy.conftest import (
    RunningHaproxy,
    apply,
    chat_lb,
    connect,
    greeting,
    plan,
    spec_for,
)
from tests.targets.haproxy.test_https import _certificate, _get, _https_spec
from tests.targets.nginx.test_https import self_signed


def _request(
    port: int, path: str = "/", headers: dict[str, str] | None = None
) -> tuple[http.client.HTTPResponse, str]:
    """The response (read) and its body, over a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request("GET", path, headers={"Connection": "close", **(headers or {})})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.getheader("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return response, body.decode()


def _body(port: int, headers: dict[str, str] | None = None) -> str:
    return _request(port, headers=headers)[1]


def _cookie(response: http.client.HTTPResponse) -> str:
    return (response.getheader("Set-Cookie") or "").split(";")[0]


def test_http_listener_redirects_to_the_https_port_as_nginx_does(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    port, plain_port = free_port(), free_port()
    cert, key = self_signed(tmp_path)
    base = _https_spec(
        haproxy, port, http_backends[0], (_certificate("edge-cert", cert, key),)
    )
    lb = base.load_balancers[0]
    redirect = Listener(Protocol.HTTP, plain_port, "web", redirect_to_port=port)
    spec = replace(
        base, load_balancers=(replace(lb, listeners=(*lb.listeners, redirect)),)
    )

    apply(spec, haproxy.target())
    wait_for_port(plain_port)

    response, _ = _request(
        plain_port, "/chat?room=1", {"Host": f"chat.test:{plain_port}"}
    )
    assert response.status == 301
    assert response.getheader("Location") == f"https://chat.test:{port}/chat?room=1"
    response, _ = _request(plain_port, "/", {"Host": f"[::1]:{plain_port}"})
    assert response.getheader("Location") == f"https://[::1]:{port}/"
    assert _get(port, ca=cert)[:2] == (200, b"b1")
    assert plan(spec, haproxy.target()).changes == ()


def _sticky_spec(haproxy: RunningHaproxy, port: int, backends: list[Backend]) -> Spec:
    lb = chat_lb(port, backends, protocol=Protocol.HTTP)
    sticky = StickySession(type="insert", cookie_timeout=3600)
    listener = replace(lb.listeners[0], sticky_session=sticky)
    return spec_for(haproxy.target_spec(), replace(lb, listeners=(listener,)))


def test_inserted_cookie_keeps_a_client_on_one_server(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    spec = _sticky_spec(haproxy, port, http_backends[:2])
    apply(spec, haproxy.target())
    wait_for_port(port)

    cookie = _cookie(_request(port)[0])
    assert cookie.startswith("SERVERID=")
    with_cookie = Counter(_body(port, {"Cookie": cookie}) for _ in range(10))
    without = Counter(_body(port) for _ in range(10))

    assert len(with_cookie) == 1, with_cookie
    assert len(without) == 2, "without the cookie round robin goes on"
    assert plan(spec, haproxy.target()).changes == ()


def test_server_added_at_runtime_gets_a_sticky_cookie_too(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    apply(_sticky_spec(haproxy, port, http_backends[:2]), haproxy.target())
    workers = haproxy.worker_pids()

    spec = _sticky_spec(haproxy, port, http_backends)
    (change,) = plan(spec, haproxy.target()).changes
    assert change.action == "runtime add server"
    apply(spec, haproxy.target())
    assert haproxy.worker_pids() == workers, "a join needs no reload"

    cookies = {}
    for _ in range(6):
        response, served_by = _request(port)
        cookies[served_by] = _cookie(response)
    assert len(cookies["b3"]) > len("SERVERID="), cookies
    assert {_body(port, {"Cookie": cookies["b3"]}) for _ in range(5)} == {"b3"}


def test_acl_white_list_lets_in_only_its_addresses(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, tcp_backends[:1])
    listener = replace(lb.listeners[0], acl=AclBinding("office", "white"))
    office = Acl("office", "edge", entries=(AclEntry("127.0.0.2/32", "one desk"),))
    spec = replace(
        spec_for(haproxy.target_spec(), replace(lb, listeners=(listener,))),
        acls=(office,),
    )

    apply(spec, haproxy.target())
    wait_for_port(port)

    assert greeting(connect(port, source="127.0.0.2")) == "t1"
    assert _refused(port, source="127.0.0.1")
    assert plan(spec, haproxy.target()).changes == ()

    # A new entry is an ACL change; after it, 127.0.0.1 gets in too.
    wider = replace(office, entries=(*office.entries, AclEntry("127.0.0.1/32")))
    spec = replace(spec, acls=(wider,))
    (change,) = plan(spec, haproxy.target()).changes
    assert (change.op, change.address.kind) == (ChangeOp.UPDATE, ResourceKind.ACL)
    apply(spec, haproxy.target())
    assert greeting(connect(port, source="127.0.0.1")) == "t1"


def test_acl_black_list_refuses_its_addresses(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, tcp_backends[:1])
    listener = replace(lb.listeners[0], acl=AclBinding("blocked", "black"))
    blocked = Acl("blocked", "edge", entries=(AclEntry("127.0.0.0/30"),))
    spec = replace(
        spec_for(haproxy.target_spec(), replace(lb, listeners=(listener,))),
        acls=(blocked,),
    )

    apply(spec, haproxy.target())
    wait_for_port(port)

    assert _refused(port, source="127.0.0.2")
    assert greeting(connect(port, source="127.0.0.9")) == "t1"
    assert plan(spec, haproxy.target()).changes == ()


def test_gzip_compresses_for_clients_that_accept_it(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, http_backends[:1], protocol=Protocol.HTTP)
    listener = replace(lb.listeners[0], gzip=True)
    spec = spec_for(haproxy.target_spec(), replace(lb, listeners=(listener,)))

    apply(spec, haproxy.target())
    wait_for_port(port)

    gzipped, body = _request(port, headers={"Accept-Encoding": "gzip"})
    assert (gzipped.getheader("Content-Encoding"), body) == ("gzip", "b1")
    assert _request(port)[0].getheader("Content-Encoding") is None
    assert plan(spec, haproxy.target()).changes == ()


def _refused(port: int, source: str) -> bool:
    """True when HAProxy closes the connection before the backend greets."""
    try:
        client = connect(port, source=source)
    except ConnectionResetError:
        return True
    try:
        return client.recv(256) == b""
    except ConnectionResetError:
        return True
    finally:
        client.close()


def test_forwarding_rules_send_hosts_and_paths_to_their_groups(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    port = free_port()
    web, api, admin = (
        ServerGroup(name, servers=(Server(b.port, address="127.0.0.1"),))
        for name, b in zip(("web", "api", "admin"), http_backends, strict=True)
    )
    rules = (ForwardingRule("api", "api", url="/api"),)
    listener = Listener(Protocol.HTTP, port, "web", rules=rules)
    lb = LoadBalancer(
        name="chat",
        target="edge",
        server_groups=(web, api, admin),
        listeners=(listener,),
    )
    spec = spec_for(haproxy.target_spec(), lb)
    apply(spec, haproxy.target())
    wait_for_port(port)

    assert _body(port) == "b1"
    assert _request(port, "/api/rooms")[1] == "b2"
    assert plan(spec, haproxy.target()).changes == ()

    # One more rule is one change; a host of its own goes to its group.
    more = (*rules, ForwardingRule("admin", "admin", domain="admin.chat.test"))
    spec = spec_for(
        haproxy.target_spec(), replace(lb, listeners=(replace(listener, rules=more),))
    )
    (change,) = plan(spec, haproxy.target()).changes
    assert (change.op, change.address.kind) == (ChangeOp.CREATE, ResourceKind.RULE)
    apply(spec, haproxy.target())

    assert _body(port, {"Host": f"admin.chat.test:{port}"}) == "b3"
    assert _request(port, "/api/rooms", {"Host": "admin.chat.test"})[1] == "b3", (
        "a host's own rules come first, as in nginx's server_name block"
    )
    assert _request(port, "/api/rooms")[1] == "b2"
    assert plan(spec, haproxy.target()).changes == ()


def test_hand_edited_acl_line_shows_as_drift_and_apply_restores_it(
    haproxy: RunningHaproxy, tcp_backends: list[Backend]
) -> None:
    port = free_port()
    lb = chat_lb(port, tcp_backends[:1])
    listener = replace(lb.listeners[0], acl=AclBinding("office", "white"))
    office = Acl("office", "edge", entries=(AclEntry("127.0.0.2/32", "one desk"),))
    spec = replace(
        spec_for(haproxy.target_spec(), replace(lb, listeners=(listener,))),
        acls=(office,),
    )
    apply(spec, haproxy.target())
    text = haproxy.owned.read_text()
    haproxy.owned.write_text(
        text.replace("src -- 127.0.0.2/32", "src -- 127.0.0.2/32 127.0.0.1/32")
    )

    (change,) = plan(spec, haproxy.target()).changes
    assert (change.op, change.address.kind) == (ChangeOp.UPDATE, ResourceKind.ACL)
    assert [f.field for f in change.fields] == ["entries"]
    apply(spec, haproxy.target())

    assert haproxy.owned.read_text() == text
    assert _refused(port, source="127.0.0.1")
