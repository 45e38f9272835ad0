"""Certificates from PEM files: the public part for the model, the key checked.

The certificate's PEM and SHA-1 fingerprint go into the model (SLB shows the
fingerprint as colon-separated lower-case hex, so the diff can match an
uploaded certificate by it). The private key file is opened here only to
check that it exists, is not encrypted and belongs to the certificate; its
content is never kept, returned, logged or quoted in a message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

_PUBLIC_FORMAT = (
    serialization.Encoding.DER,
    serialization.PublicFormat.SubjectPublicKeyInfo,
)


@dataclass
class LoadedCertificate:
    """What the spec keeps of a certificate, and what was wrong with it."""

    certificate_file: str
    private_key_file: str | None
    pem: str | None = None
    fingerprint: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field, message)


def read_certificate(
    certificate_file: str, private_key_file: str | None, base_dir: str
) -> LoadedCertificate:
    """Read a certificate and check its key; paths are relative to ``base_dir``."""
    cert_path = _resolve(certificate_file, base_dir)
    key_path = _resolve(private_key_file, base_dir) if private_key_file else None
    loaded = LoadedCertificate(cert_path, key_path)

    leaf = _read_leaf(cert_path, loaded)
    if leaf is not None and key_path is not None:
        problem = check_private_key(key_path, leaf)
        if problem:
            loaded.problems.append(("private_key", problem))
    return loaded


def fingerprint_of(certificate: x509.Certificate) -> str:
    """SHA-1 of the DER, ``ab:cd:...`` as SLB shows it."""
    digest = certificate.fingerprint(hashes.SHA1())  # SLB names certificates by SHA-1
    return ":".join(f"{byte:02x}" for byte in digest)


def _resolve(path: str, base_dir: str) -> str:
    return os.path.abspath(os.path.join(base_dir, os.path.expanduser(path)))


def _read_leaf(path: str, loaded: LoadedCertificate) -> x509.Certificate | None:
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as err:
        loaded.problems.append(("certificate", f"cannot read {path}: {err.strerror}"))
        return None
    if b"PRIVATE KEY-----" in data:
        loaded.problems.append(
            (
                "certificate",
                f"{path} holds a private key; keep the key in its own file and "
                "name it with private_key",
            )
        )
        return None
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError:
        loaded.problems.append(
            ("certificate", f"{path} is not a PEM certificate (BEGIN CERTIFICATE)")
        )
        return None
    loaded.pem = data.decode("ascii", errors="replace")
    loaded.fingerprint = fingerprint_of(chain[0])
    return chain[0]


def check_private_key(path: str, certificate: x509.Certificate) -> str:
    """What is wrong with the key at ``path`` for ``certificate``, or ""."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as err:
        return f"cannot read {path}: {err.strerror}"
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        return (
            f"{path} is encrypted; SLB takes unencrypted keys only "
            "(openssl pkey -in KEY -out PLAIN.pem)"
        )
    except (ValueError, UnsupportedAlgorithm):
        return f"{path} is not a PEM private key"
    finally:
        del data
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return f"{path} is neither an RSA nor an ECDSA key, the kinds SLB takes"
    ours = key.public_key().public_bytes(*_PUBLIC_FORMAT)
    theirs = certificate.public_key().public_bytes(*_PUBLIC_FORMAT)
    if ours != theirs:
        return f"{path} is not the key of this certificate"
    return ""
