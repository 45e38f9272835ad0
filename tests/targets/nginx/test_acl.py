"""ACLs through a real nginx: white and black lists refuse clients by address.

Clients bind to 127.0.0.1 or 127.0.0.2 (both loopback), so one machine
plays an address the list names and one it does not.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509

from slbsync.diff.changes import ChangeOp, ResourceKind
from slbsync.errors import ConfigRejectedError
from slbsync.spec.certificates import fingerprint_of
from slbsync.spec.model import (
    Acl,
    AclBinding,
    AclEntry,
    Certificate,
    ForwardingRule,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
)
from slbsync.targets.nginx.lab import LabNginx
from tests.backends import free_port, http_get, wait_for_port
from tests.targets.nginx.helpers import plan, spec_for, sync
from tests.targets.nginx.test_https import self_signed

INSIDE, OUTSIDE = "127.0.0.2", "127.0.0.1"


def guarded(lab: LabNginx, protocol: Protocol, kind: str, backend_port: int) -> Spec:
    """One listener whose ACL ``office`` lists 127.0.0.2/32 as ``kind``."""
    port = free_port()
    lb = LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(
            ServerGroup("nodes", servers=(Server(backend_port, address="127.0.0.1"),)),
        ),
        listeners=(Listener(protocol, port, "nodes", acl=AclBinding("office", kind)),),
    )
    office = Acl("office", "edge", entries=(AclEntry("127.0.0.2/32", "one desk"),))
    return replace(spec_for(lab, lb), acls=(office,))


def port_of(spec: Spec) -> int:
    return spec.load_balancers[0].listeners[0].port


def tcp_answer(port: int, source: str) -> str:
    """The backend's hello through the proxy, or "refused" when nginx cuts it."""
    try:
        client = socket.create_connection(
            ("127.0.0.1", port), timeout=5, source_address=(source, 0)
        )
    except ConnectionError:
        return "refused"
    with client:
        try:
            line = client.makefile("rb").readline().decode().strip()
        except ConnectionError:
            return "refused"
    return line.removeprefix("hello from ") if line else "refused"


def http_answer(port: int, source: str) -> str:
    """The backend's body, or the status when nginx answers itself (403)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=5, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/", headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    return body if response.status == 200 else str(response.status)


def answer(protocol: Protocol, port: int, source: str) -> str:
    if protocol == Protocol.TCP:
        return tcp_answer(port, source)
    return http_answer(port, source)


@pytest.mark.parametrize(
    ("protocol", "kind", "served", "refused"),
    [
        (Protocol.TCP, "white", INSIDE, OUTSIDE),
        (Protocol.TCP, "black", OUTSIDE, INSIDE),
        (Protocol.HTTP, "white", INSIDE, OUTSIDE),
        (Protocol.HTTP, "black", OUTSIDE, INSIDE),
    ],
)
def test_acl_serves_and_refuses_clients_by_address(
    lab: LabNginx,
    backends,
    protocol: Protocol,
    kind: str,
    served: str,
    refused: str,
) -> None:
    backend = backends("b1", "tcp" if protocol == Protocol.TCP else "http")
    spec = guarded(lab, protocol, kind, backend.port)

    sync(spec)
    port = port_of(spec)
    wait_for_port(port)

    no = "refused" if protocol == Protocol.TCP else "403"
    assert answer(protocol, port, served) == "b1"
    assert answer(protocol, port, refused) == no
    assert plan(spec) == []


def test_new_acl_entry_is_one_change_that_lets_the_address_in(
    lab: LabNginx, backends
) -> None:
    backend = backends("t1", "tcp")
    spec = guarded(lab, Protocol.TCP, "white", backend.port)
    sync(spec)
    port = port_of(spec)
    wait_for_port(port)
    assert tcp_answer(port, OUTSIDE) == "refused"

    office = spec.acls[0]
    wider = replace(office, entries=(*office.entries, AclEntry("127.0.0.1/32")))
    spec = replace(spec, acls=(wider,))
    (change,) = plan(spec)
    assert (change.op, change.address.kind) == (ChangeOp.UPDATE, ResourceKind.ACL)
    sync(spec)

    assert tcp_answer(port, OUTSIDE) == "t1"
    assert plan(spec) == []


def test_hand_added_allow_line_shows_as_drift_and_apply_restores_it(
    lab: LabNginx, backends
) -> None:
    backend = backends("t1", "tcp")
    spec = guarded(lab, Protocol.TCP, "white", backend.port)
    sync(spec)
    port = port_of(spec)
    text = lab.owned_conf.read_text()
    lab.owned_conf.write_text(
        text.replace("allow 127.0.0.2/32;", "allow 127.0.0.2/32;\nallow 127.0.0.1;")
    )

    (change,) = plan(spec)
    assert (change.op, change.address.kind) == (ChangeOp.UPDATE, ResourceKind.ACL)
    assert [f.field for f in change.fields] == ["entries"]
    sync(spec)

    assert lab.owned_conf.read_text() == text
    wait_for_port(port)
    assert tcp_answer(port, OUTSIDE) == "refused"


def test_hand_edited_catch_all_shows_as_a_changed_listener(
    lab: LabNginx, backends
) -> None:
    backend = backends("b1", "http")
    spec = guarded(lab, Protocol.HTTP, "white", backend.port)
    sync(spec)
    text = lab.owned_conf.read_text()
    lab.owned_conf.write_text(text.replace("deny all;", "allow all;"))

    (change,) = plan(spec)
    assert (change.op, change.address.kind) == (ChangeOp.UPDATE, ResourceKind.LISTENER)
    assert [f.field for f in change.fields] == ["acl.type"]
    sync(spec)

    assert lab.owned_conf.read_text() == text
    assert http_answer(port_of(spec), OUTSIDE) == "403"


def test_listener_naming_an_unknown_acl_is_refused_at_apply(
    lab: LabNginx, backends
) -> None:
    backend = backends("t1", "tcp")
    spec = replace(guarded(lab, Protocol.TCP, "white", backend.port), acls=())
    before = lab.owned_conf.read_text()

    with pytest.raises(ConfigRejectedError) as caught:
        sync(spec)

    assert "no ACL known for office: a listener names it" in str(caught.value)
    assert lab.owned_conf.read_text() == before


def https_answer(port: int, source: str, ca: Path) -> str:
    context = ssl.create_default_context(cafile=str(ca))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, timeout=5, context=context, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/", headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    return body if response.status == 200 else str(response.status)


def test_white_list_on_https_answers_403_after_the_handshake(
    lab: LabNginx, backends, tmp_path: Path
) -> None:
    backend = backends("b1", "http")
    cert, key = self_signed(tmp_path)
    spec = guarded(lab, Protocol.HTTPS, "white", backend.port)
    lb = spec.load_balancers[0]
    https = replace(lb.listeners[0], certificate="edge-cert")
    certificate = Certificate(
        name="edge-cert",
        target="edge",
        certificate_file=str(cert),
        private_key_file=str(key),
        fingerprint=fingerprint_of(x509.load_pem_x509_certificate(cert.read_bytes())),
    )
    spec = replace(
        spec,
        load_balancers=(replace(lb, listeners=(https,)),),
        certificates=(certificate,),
    )

    sync(spec)
    port = port_of(spec)
    wait_for_port(port)

    assert https_answer(port, INSIDE, cert) == "b1"
    assert https_answer(port, OUTSIDE, cert) == "403"
    assert plan(spec) == []


def test_black_list_holds_for_a_domain_rule_host_too(lab: LabNginx, backends) -> None:
    web, admin = backends("web", "http"), backends("admin", "http")
    spec = guarded(lab, Protocol.HTTP, "black", web.port)
    lb = spec.load_balancers[0]
    group = ServerGroup("admin", servers=(Server(admin.port, address="127.0.0.1"),))
    rule = ForwardingRule("admin", "admin", domain="admin.chat.test")
    listener = replace(lb.listeners[0], rules=(rule,))
    lb = replace(lb, server_groups=(*lb.server_groups, group), listeners=(listener,))
    spec = replace(spec, load_balancers=(lb,))

    sync(spec)
    port = port_of(spec)
    wait_for_port(port)

    host = {"Host": "admin.chat.test"}
    assert http_get(port, source=OUTSIDE, headers=host) == "admin"
    assert http_answer(port, INSIDE) == "403"
    with pytest.raises(RuntimeError, match="answered 403"):
        http_get(port, source=INSIDE, headers=host)
    assert plan(spec) == []
