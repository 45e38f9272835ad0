"""Self-signed certificates written to files, as a spec names them."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from slbsync.spec.certificates import fingerprint_of
from slbsync.spec.model import Certificate


def write_certificate(directory: Path, name: str, common_name: str) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / f"{common_name}.crt"
    key_file = directory / f"{common_name}.key"
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_file.write_text(pem)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(
        name=name,
        target="cloud",
        certificate_file=str(cert_file),
        private_key_file=str(key_file),
        certificate_pem=pem,
        fingerprint=fingerprint_of(cert),
    )
