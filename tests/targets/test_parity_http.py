"""One HTTP(S) load balancer entry, two on-prem targets: nginx and HAProxy agree.

The same listeners (HTTPS with mutual TLS, HTTP/2 and a forwarding rule; an
HTTP listener redirecting to it) go to a private nginx and a private
HAProxy; a client sees the same answers from both, and both plan clean. The
same white list on both lets in the same client and reads back the same.
"""

from __future__ import annotations

import http.client
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from slbsync.apply.runner import PlanRunner
from slbsync.plan.make import make_plan
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
    Spec,
)
from slbsync.targets.registry import make_target
from tests.backends import Backend, free_port, start_http_backend, wait_for_port

if shutil.which("nginx") is None or shutil.which("haproxy") is None:
    pytest.skip(
        "nginx and haproxy are needed; run scripts/test.sh", allow_module_level=True
    )

from slbsync.targets.haproxy.lab import LabHaproxy, start_lab_haproxy
from slbsync.targets.nginx.lab import LabNginx, start_lab_nginx
from tests.targets.haproxy.test_https import _certificate, _get
from tests.targets.nginx.test_https import client_ca, self_signed


@pytest.fixture
def proxies() -> Iterator[tuple[LabNginx, LabHaproxy]]:
    root = Path(tempfile.mkdtemp(prefix="parity-http-", dir="/tmp"))
    nginx = start_lab_nginx(root / "nginx")
    try:
        haproxy = start_lab_haproxy(root / "haproxy")
    except Exception:
        nginx.stop()
        raise
    yield nginx, haproxy
    haproxy.stop()
    nginx.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def web_and_api() -> Iterator[tuple[Backend, Backend]]:
    web, api = start_http_backend("web"), start_http_backend("api")
    yield web, api
    web.stop()
    api.stop()


def _load_balancer(
    target: str, https: int, plain: int, web: Backend, api: Backend
) -> LoadBalancer:
    # nginx checks passively only: no active check, so both can hold it.
    no_check = HealthCheck(enabled=False, type="http")
    return LoadBalancer(
        name="chat",
        target=target,
        server_groups=(
            ServerGroup("web", servers=(Server(web.port, address="127.0.0.1"),)),
            ServerGroup("api", servers=(Server(api.port, address="127.0.0.1"),)),
        ),
        listeners=(
            Listener(
                Protocol.HTTPS,
                https,
                "web",
                certificate=f"{target}-cert",
                ca_certificate=f"{target}-clients",
                http2=True,
                health_check=no_check,
                rules=(ForwardingRule("api", "api", url="/api"),),
            ),
            Listener(Protocol.HTTP, plain, redirect_to_port=https),
        ),
    )


def test_nginx_and_haproxy_serve_one_https_entry_alike(
    proxies: tuple[LabNginx, LabHaproxy],
    web_and_api: tuple[Backend, Backend],
    tmp_path: Path,
) -> None:
    nginx, haproxy = proxies
    cert, key = self_signed(tmp_path)
    ca, client, client_key = client_ca(tmp_path)
    target_specs = (nginx.target_spec(name="ngx"), haproxy.target_spec(name="hap"))
    ports = {t.name: (free_port(), free_port()) for t in target_specs}
    certificates = []
    for t in target_specs:
        server = _certificate(f"{t.name}-cert", cert, key)
        clients = _certificate(f"{t.name}-clients", ca, None, kind="ca")
        certificates += [replace(c, target=t.name) for c in (server, clients)]
    spec = Spec(
        targets=target_specs,
        load_balancers=tuple(
            _load_balancer(t.name, *ports[t.name], *web_and_api) for t in target_specs
        ),
        certificates=tuple(certificates),
    )
    targets = [make_target(t) for t in target_specs]
    for target in targets:
        assert target.validate(spec) == [], target.name

    report = PlanRunner({t.name: t for t in targets}).run(make_plan(spec, targets))
    report.raise_for_failures()

    signed = (client, client_key)
    seen = {}
    for name, (https, plain) in ports.items():
        wait_for_port(https)
        seen[name] = {
            "page": _get(https, ca=cert, client=signed)[:2],
            "rule": _get_path(https, cert, signed, "/api/rooms"),
            "redirect": _redirect(plain, https),
        }
    assert seen["hap"] == {
        "page": (200, b"web"),
        "rule": "api",
        "redirect": (301, "https://chat.test:<https port>/x?y=1"),
    }
    assert seen["ngx"] == seen["hap"]
    again = make_plan(spec, [make_target(t) for t in target_specs])
    assert [len(part.changes) for part in again.targets] == [0, 0]


def _get_path(port: int, ca: Path, client: tuple[Path, Path], path: str) -> str:
    """The body of a GET over mutual TLS."""
    context = ssl.create_default_context(cafile=str(ca))
    context.load_cert_chain(str(client[0]), str(client[1]))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, context=context, timeout=5
    )
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def _redirect(plain: int, https: int) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", plain, timeout=5)
    try:
        connection.request("GET", "/x?y=1", headers={"Host": "chat.test"})
        response = connection.getresponse()
        location = response.getheader("Location") or ""
        # Each proxy redirects to its own HTTPS port; compare the rest.
        return response.status, location.replace(f":{https}/", ":<https port>/")
    finally:
        connection.close()


def _refused(port: int, source: str) -> str:
    """How a proxy turned a client away: "403", or "closed" (no HTTP answer)."""
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=5, source_address=(source, 0)
    )
    try:
        connection.request("GET", "/", headers={"Connection": "close"})
        response = connection.getresponse()
        body = response.read().decode()
    except (ConnectionError, http.client.RemoteDisconnected):
        return "closed"
    finally:
        connection.close()
    return str(response.status) if response.status != 200 else f"served {body}"


def test_nginx_and_haproxy_apply_one_acl_alike(
    proxies: tuple[LabNginx, LabHaproxy],
    web_and_api: tuple[Backend, Backend],
) -> None:
    nginx, haproxy = proxies
    web = web_and_api[0]
    target_specs = (nginx.target_spec(name="ngx"), haproxy.target_spec(name="hap"))
    ports = {t.name: free_port() for t in target_specs}
    office = AclBinding("office", "white")
    spec = Spec(
        targets=target_specs,
        load_balancers=tuple(
            LoadBalancer(
                name="chat",
                target=t.name,
                server_groups=(
                    ServerGroup(
                        "web", servers=(Server(web.port, address="127.0.0.1"),)
                    ),
                ),
                listeners=(Listener(Protocol.HTTP, ports[t.name], "web", acl=office),),
            )
            for t in target_specs
        ),
        acls=tuple(
            Acl("office", t.name, entries=(AclEntry("127.0.0.2/32", "one desk"),))
            for t in target_specs
        ),
    )
    targets = [make_target(t) for t in target_specs]
    for target in targets:
        assert target.validate(spec) == [], target.name

    report = PlanRunner({t.name: t for t in targets}).run(make_plan(spec, targets))
    report.raise_for_failures()

    for name, port in ports.items():
        wait_for_port(port)
        assert _refused(port, "127.0.0.2") == "served web", name
    # nginx refuses inside HTTP (403); HAProxy refuses the connection itself.
    assert _refused(ports["ngx"], "127.0.0.1") == "403"
    assert _refused(ports["hap"], "127.0.0.1") == "closed"
    live = [make_target(t).read_live_state(spec) for t in target_specs]
    read_back = [
        (
            [a.acl.entries for a in state.acls],
            state.load_balancers[0].spec.listeners[0].acl,
        )
        for state in live
    ]
    assert (
        read_back[0]
        == read_back[1]
        == (
            [(AclEntry("127.0.0.2/32", "one desk"),)],
            office,
        )
    )
    again = make_plan(spec, [make_target(t) for t in target_specs])
    assert [len(part.changes) for part in again.targets] == [0, 0]
