"""Certificates from PEM files, made fresh by each test with cryptography."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from slbsync.spec.load import load_spec, load_spec_documents
from slbsync.spec.problems import SpecValidationError

KEY_MARKER = "PRIVATE KEY"


def make_certificate(key=None, name: str = "chat.example.com"):
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def write_pair(folder: Path, key, certificate, password: bytes | None = None):
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    (folder / "certs").mkdir(exist_ok=True)
    (folder / "certs" / "chat.key").write_bytes(key_pem)
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (folder / "certs" / "chat.crt").write_bytes(cert_pem)
    return key_pem.decode(), cert_pem.decode()


SPEC = """\
targets: {cloud: {type: alibaba-slb, region: cn-hangzhou}}
certificates:
  chat-cert:
    target: cloud
    certificate: certs/chat.crt
    private_key: certs/chat.key
load_balancers:
  chat:
    target: cloud
    server_groups: {web: {servers: [{id: i-1, port: 80}]}}
    listeners:
      - {protocol: https, port: 443, server_group: web, certificate: chat-cert}
      - {protocol: http, port: 80, redirect_to_port: 443}
"""


def write_spec(folder: Path, text: str = SPEC) -> Path:
    path = folder / "spec.yaml"
    path.write_text(text)
    return path


def test_certificate_pem_and_fingerprint_reach_the_model(tmp_path):
    key, certificate = make_certificate()
    _, cert_pem = write_pair(tmp_path, key, certificate)

    spec = load_spec([write_spec(tmp_path)], environ={})

    loaded = spec.certificates[0]
    assert loaded.certificate_pem == cert_pem
    digest = certificate.fingerprint(hashes.SHA1()).hex()
    assert loaded.fingerprint == ":".join(
        digest[i : i + 2] for i in range(0, len(digest), 2)
    )
    assert loaded.certificate_file == str(tmp_path / "certs" / "chat.crt")
    assert loaded.private_key_file == str(tmp_path / "certs" / "chat.key")
    https, redirect = spec.load_balancers[0].listeners
    assert https.certificate == "chat-cert"
    assert redirect.redirect_to_port == 443


def test_private_key_never_appears_in_the_model(tmp_path):
    key, certificate = make_certificate(rsa.generate_private_key(65537, 2048))
    key_pem, _ = write_pair(tmp_path, key, certificate)
    key_body = key_pem.splitlines()[1]

    spec = load_spec([write_spec(tmp_path)], environ={})

    for text in (repr(spec), repr(spec.certificates), str(spec.documents)):
        assert KEY_MARKER not in text
        assert key_body not in text


def test_key_of_another_certificate_is_refused(tmp_path):
    key, _ = make_certificate()
    _, other = make_certificate()
    key_pem, _ = write_pair(tmp_path, key, other)

    with pytest.raises(SpecValidationError) as caught:
        load_spec([write_spec(tmp_path)], environ={})

    key_file = tmp_path / "certs" / "chat.key"
    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/spec.yaml:6:18 certificates.chat-cert.private_key: "
        f"{key_file} is not the key of this certificate"
    ]
    assert key_pem.splitlines()[1] not in str(caught.value)


def test_encrypted_key_is_refused_with_a_way_out(tmp_path):
    key, certificate = make_certificate()
    write_pair(tmp_path, key, certificate, password=b"s3cret-pass")

    with pytest.raises(SpecValidationError) as caught:
        load_spec([write_spec(tmp_path)], environ={})

    message = caught.value.problems[0].message
    assert message.endswith(
        "chat.key is encrypted; SLB takes unencrypted keys only "
        "(openssl pkey -in KEY -out PLAIN.pem)"
    )


def test_missing_files_are_reported(tmp_path):
    with pytest.raises(SpecValidationError) as caught:
        load_spec([write_spec(tmp_path)], environ={})

    assert [str(p) for p in caught.value.problems] == [
        f"{tmp_path}/spec.yaml:5:18 certificates.chat-cert.certificate: cannot read "
        f"{tmp_path}/certs/chat.crt: No such file or directory"
    ]


def test_key_pasted_into_the_spec_is_refused_and_not_echoed(tmp_path):
    key, certificate = make_certificate()
    key_pem, _ = write_pair(tmp_path, key, certificate)
    indented = "\n".join("      " + line for line in key_pem.splitlines())
    text = SPEC.replace(
        "    private_key: certs/chat.key\n",
        f"    private_key: |\n{indented}\n",
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([write_spec(tmp_path, text)], environ={})

    report = str(caught.value) + repr(caught.value.problems)
    assert "a private key may not be written in a spec" in report
    assert KEY_MARKER not in report.replace("may not be written", "")
    for line in key_pem.splitlines()[1:-1]:
        assert line not in report


def test_listener_certificate_must_be_a_server_certificate(tmp_path):
    key, certificate = make_certificate()
    write_pair(tmp_path, key, certificate)
    text = SPEC.replace("certificate: chat-cert}", "certificate: client-ca}").replace(
        "certificates:\n",
        "certificates:\n"
        "  client-ca: {target: cloud, kind: ca, certificate: certs/chat.crt}\n",
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([write_spec(tmp_path, text)], environ={})

    assert [p.message for p in caught.value.problems] == [
        'certificate "client-ca" is a ca certificate; certificate needs a server one'
    ]


def test_ca_certificate_takes_no_private_key(tmp_path):
    key, certificate = make_certificate()
    write_pair(tmp_path, key, certificate)
    text = SPEC.replace(
        "    target: cloud\n    certificate:",
        "    target: cloud\n    kind: ca\n    certificate:",
    )

    with pytest.raises(SpecValidationError) as caught:
        load_spec([write_spec(tmp_path, text)], environ={})

    assert caught.value.problems[0].message == (
        "a CA certificate is uploaded without a private key; remove it"
    )


def test_saved_documents_resolve_paths_against_their_source(tmp_path):
    key, certificate = make_certificate()
    write_pair(tmp_path, key, certificate)
    spec = load_spec([write_spec(tmp_path)], environ={})

    again = load_spec_documents(spec.named_documents())

    assert again.certificates == spec.certificates
