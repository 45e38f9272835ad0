"""HTTPS listeners end TLS in a real HAProxy with the spec's certificate files."""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509

from slbsync.diff.changes import ChangeOp, ResourceKind
from slbsync.errors import SlbsyncError
from slbsync.spec.certificates import fingerprint_of
from slbsync.spec.model import (
    Certificate,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
    Spec,
)
from tests.backends import Backend, free_port, wait_for_port
from tests.targets.haproxy.conftest import RunningHaproxy, apply, plan
from tests.targets.nginx.test_https import client_ca, self_signed


def _certificate(name: str, cert: Path, key: Path | None, kind: str = "server"):
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    return Certificate(
        name=name,
        target="edge",
        kind=kind,
        certificate_file=str(cert),
        private_key_file=str(key) if key else None,
        fingerprint=fingerprint_of(loaded),
    )


def _https_spec(
    haproxy: RunningHaproxy,
    port: int,
    backend: Backend,
    certificates: tuple[Certificate, ...],
    **listener: object,
) -> Spec:
    web = ServerGroup("web", servers=(Server(backend.port, address="127.0.0.1"),))
    https = Listener(Protocol.HTTPS, port, "web", certificate="edge-cert")
    lb = LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(web,),
        listeners=(replace(https, **listener),),  # type: ignore[arg-type]
    )
    return Spec(
        targets=(haproxy.target_spec(),),
        load_balancers=(lb,),
        certificates=certificates,
    )


def _get(
    port: int, ca: Path, client: tuple[Path, Path] | None = None
) -> tuple[int, bytes, str | None]:
    """Status, body and the ALPN protocol of one HTTPS request."""
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["http/1.1"])
    if client:
        context.load_cert_chain(str(client[0]), str(client[1]))
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, context=context, timeout=5
    )
    try:
        connection.request("GET", "/")
        response = connection.getresponse()
        assert connection.sock is not None
        alpn = connection.sock.selected_alpn_protocol()  # type: ignore[attr-defined]
        return response.status, response.read(), alpn
    finally:
        connection.close()


def _offers_h2(port: int) -> bool:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        return tls.selected_alpn_protocol() == "h2"


def _served_certificate(port: int) -> bytes:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw) as tls,
    ):
        served = tls.getpeercert(binary_form=True)
    assert served is not None
    return served


def test_https_listener_serves_the_spec_certificate_and_plans_clean(
    haproxy: RunningHaproxy,
    http_backends: list[Backend],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()
    cert, key = self_signed(tmp_path)
    certificates = (_certificate("edge-cert", cert, key),)
    spec = _https_spec(haproxy, port, http_backends[0], certificates, http2=True)

    apply(spec, haproxy.target())
    wait_for_port(port)

    assert _get(port, ca=cert)[:2] == (200, b"b1")
    assert _offers_h2(port), "http2: true offers h2 over ALPN"
    assert plan(spec, haproxy.target()).changes == ()

    # The key reaches HAProxy in slbsync's own PEM file, readable by root only.
    (pem,) = (haproxy.root / "slbsync-certs").iterdir()
    assert pem.stat().st_mode & 0o777 == 0o600
    assert pem.read_bytes() == cert.read_bytes() + key.read_bytes()
    assert f"ssl crt {pem} alpn h2,http/1.1" in haproxy.owned.read_text()
    assert "PRIVATE KEY" not in haproxy.owned.read_text()
    assert "PRIVATE KEY" not in caplog.text


def test_renewed_certificate_plans_as_a_change_and_is_served(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    port = free_port()
    cert, key = self_signed(tmp_path)
    spec = _https_spec(
        haproxy, port, http_backends[0], (_certificate("edge-cert", cert, key),)
    )
    apply(spec, haproxy.target())
    wait_for_port(port)
    first = _served_certificate(port)

    # The same paths, new content: HAProxy serves the old one until slbsync acts.
    renewed = tmp_path / "renewed"
    renewed.mkdir()
    new_cert, new_key = self_signed(renewed)
    cert.write_bytes(new_cert.read_bytes())
    key.write_bytes(new_key.read_bytes())
    spec = replace(spec, certificates=(_certificate("edge-cert", cert, key),))

    (change,) = plan(spec, haproxy.target()).changes
    assert (change.op, change.address.kind) == (
        ChangeOp.UPDATE,
        ResourceKind.CERTIFICATE,
    )
    assert [f.field for f in change.fields] == ["fingerprint"]
    apply(spec, haproxy.target())

    served = _served_certificate(port)
    assert served != first
    assert served == ssl.PEM_cert_to_DER_cert(cert.read_text())
    assert plan(spec, haproxy.target()).changes == ()
    assert len(list((haproxy.root / "slbsync-certs").iterdir())) == 1, (
        "the PEM file of the old certificate is removed once nothing names it"
    )


def test_mutual_tls_lets_in_only_clients_the_ca_signed(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    port = free_port()
    cert, key = self_signed(tmp_path)
    ca, client, client_key = client_ca(tmp_path)
    certificates = (
        _certificate("edge-cert", cert, key),
        _certificate("clients", ca, None, kind="ca"),
    )
    spec = _https_spec(
        haproxy, port, http_backends[0], certificates, ca_certificate="clients"
    )

    apply(spec, haproxy.target())
    wait_for_port(port)

    assert _get(port, ca=cert, client=(client, client_key))[:2] == (200, b"b1")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        _get(port, ca=cert)  # no client certificate: refused in the handshake
    assert plan(spec, haproxy.target()).changes == ()


def test_removed_pem_file_plans_as_a_certificate_to_write(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    port = free_port()
    cert, key = self_signed(tmp_path)
    spec = _https_spec(
        haproxy, port, http_backends[0], (_certificate("edge-cert", cert, key),)
    )
    apply(spec, haproxy.target())
    (pem,) = (haproxy.root / "slbsync-certs").iterdir()
    pem.unlink()

    (change,) = plan(spec, haproxy.target()).changes
    assert (change.op, change.address.kind) == (
        ChangeOp.CREATE,
        ResourceKind.CERTIFICATE,
    )
    apply(spec, haproxy.target())

    assert pem.read_bytes() == cert.read_bytes() + key.read_bytes()
    assert _get(port, ca=cert)[:2] == (200, b"b1")
    assert plan(spec, haproxy.target()).changes == ()


def test_certificate_haproxy_rejects_never_goes_live(
    haproxy: RunningHaproxy, http_backends: list[Backend], tmp_path: Path
) -> None:
    port = free_port()
    cert, key = self_signed(tmp_path)
    spec = _https_spec(
        haproxy, port, http_backends[0], (_certificate("edge-cert", cert, key),)
    )
    apply(spec, haproxy.target())
    served = _served_certificate(port)
    owned = haproxy.owned.read_text()

    # A new certificate with the old key: HAProxy refuses the pair.
    other = tmp_path / "other"
    other.mkdir()
    wrong_cert, _ = self_signed(other)
    bad = replace(spec, certificates=(_certificate("edge-cert", wrong_cert, key),))
    with pytest.raises(SlbsyncError) as caught:
        apply(bad, haproxy.target())

    assert "inconsistencies between private key and certificate" in str(caught.value)
    assert "PRIVATE KEY" not in str(caught.value)
    assert haproxy.owned.read_text() == owned
    assert _served_certificate(port) == served
    assert len(list((haproxy.root / "slbsync-certs").iterdir())) == 1
