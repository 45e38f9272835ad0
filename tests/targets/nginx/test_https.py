"""HTTPS listeners terminate TLS in nginx with the spec's certificate files."""

from __future__ import annotations

import datetime
import http.client
import ipaddress
import socket
import ssl
from dataclasses import replace
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

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
from slbsync.targets.nginx.lab import LabNginx
from tests.backends import free_port, wait_for_port
from tests.targets.nginx.helpers import plan, sync


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat-edge.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "edge.pem", directory / "edge.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_https_listener_serves_certificate_and_http_redirects(
    lab: LabNginx, backends, tmp_path: Path
) -> None:
    b1 = backends("b1")
    port, plain_port = free_port(), free_port()
    cert_file, key_file = self_signed(tmp_path)
    web = ServerGroup("web", servers=(Server(b1.port, address="127.0.0.1"),))
    lb = LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(web,),
        listeners=(
            Listener(Protocol.HTTPS, port, "web", certificate="edge-cert"),
            Listener(Protocol.HTTP, plain_port, redirect_to_port=port),
        ),
    )
    certificate = Certificate(
        name="edge-cert",
        target="edge",
        certificate_file=str(cert_file),
        private_key_file=str(key_file),
    )
    spec = Spec(
        targets=(lab.target_spec("edge"),),
        load_balancers=(lb,),
        certificates=(certificate,),
    )

    sync(spec)
    wait_for_port(port)

    context = ssl.create_default_context(cafile=str(cert_file))
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context)
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"b1"
    connection.close()
    redirect = http.client.HTTPConnection("127.0.0.1", plain_port, timeout=5)
    redirect.request("GET", "/chat?room=1", headers={"Host": "chat.test"})
    response = redirect.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://chat.test:{port}/chat?room=1"
    redirect.close()
    assert plan(spec) == []
    assert str(key_file) in lab.owned_conf.read_text()  # a path, never the key
    assert "PRIVATE KEY" not in lab.owned_conf.read_text()


def served_certificate(port: int) -> bytes:
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


def spec_with(lab: LabNginx, port: int, backend_port: int, cert: Path, key: Path):
    web = ServerGroup("web", servers=(Server(backend_port, address="127.0.0.1"),))
    lb = LoadBalancer(
        name="chat-edge",
        target="edge",
        server_groups=(web,),
        listeners=(Listener(Protocol.HTTPS, port, "web", certificate="edge-cert"),),
    )
    loaded = x509.load_pem_x509_certificate(cert.read_bytes())
    certificate = Certificate(
        name="edge-cert",
        target="edge",
        certificate_file=str(cert),
        private_key_file=str(key),
        fingerprint=fingerprint_of(loaded),
    )
    return Spec(
        targets=(lab.target_spec("edge"),),
        load_balancers=(lb,),
        certificates=(certificate,),
    )


def test_renewed_certificate_file_is_planned_and_reloaded(
    lab: LabNginx, backends, tmp_path: Path
) -> None:
    b1 = backends("b1")
    port = free_port()
    cert_file, key_file = self_signed(tmp_path)
    sync(spec_with(lab, port, b1.port, cert_file, key_file))
    wait_for_port(port)
    first = served_certificate(port)

    # The same paths, new content: nginx serves the old one until a reload.
    renewed = tmp_path / "renewed"
    renewed.mkdir()
    new_cert, new_key = self_signed(renewed)
    cert_file.write_bytes(new_cert.read_bytes())
    key_file.write_bytes(new_key.read_bytes())
    spec = spec_with(lab, port, b1.port, cert_file, key_file)

    [change] = plan(spec)
    assert (change.op, change.address.kind) == ("update", "certificate")
    sync(spec)

    served = served_certificate(port)
    assert served != first
    assert served == ssl.PEM_cert_to_DER_cert(new_cert.read_text())
    assert plan(spec) == []


def client_ca(directory: Path) -> tuple[Path, Path, Path]:
    """A CA, and a client certificate and key it signed, as PEM files."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat clients CA")])
    now = datetime.datetime.now(datetime.UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node-7")]))
        .issuer_name(ca_name)
        .public_key(client_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "clients-ca.pem"
    client_file, client_key_file = directory / "node.pem", directory / "node.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    client_file.write_bytes(client.public_bytes(serialization.Encoding.PEM))
    client_key_file.write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_file, client_file, client_key_file


def test_mutual_tls_lets_in_only_signed_clients(
    lab: LabNginx, backends, tmp_path: Path
) -> None:
    b1 = backends("b1")
    port = free_port()
    cert_file, key_file = self_signed(tmp_path)
    ca_file, client_file, client_key = client_ca(tmp_path)
    base = spec_with(lab, port, b1.port, cert_file, key_file)
    listener = replace(base.load_balancers[0].listeners[0], ca_certificate="clients")
    lb = replace(base.load_balancers[0], listeners=(listener,))
    ca = Certificate(
        name="clients", target="edge", kind="ca", certificate_file=str(ca_file)
    )
    spec = replace(base, load_balancers=(lb,), certificates=(*base.certificates, ca))

    sync(spec)
    wait_for_port(port)

    def get(with_client_certificate: bool) -> tuple[int, bytes]:
        context = ssl.create_default_context(cafile=str(cert_file))
        if with_client_certificate:
            context.load_cert_chain(str(client_file), str(client_key))
        connection = http.client.HTTPSConnection("127.0.0.1", port, context=context)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    assert get(with_client_certificate=True) == (200, b"b1")
    assert get(with_client_certificate=False)[0] == 400
    assert plan(spec) == []
