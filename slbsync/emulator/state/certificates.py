"""Server and CA certificates, parsed from PEM for real.

An upload is parsed with ``cryptography``: the fingerprint (SHA-1 of the
DER, lower-case hex pairs joined by colons, as SLB shows it), the common
name, the subject alternative names and the expiry come from the
certificate itself, and a server certificate's private key must be
unencrypted, of a supported kind and match the certificate.

The private key is only checked, never kept: no record field, Describe
answer, state dump or log line holds it or anything derived from it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from slbsync.emulator.errors import ApiError, InvalidParameter, MissingParameter
from slbsync.emulator.state.store import Store

CERTIFICATES_PER_REGION = 100  # server and CA certificates each
NAME_PATTERN = r"[A-Za-z][A-Za-z0-9._-]{0,79}"
RSA_KEY_SIZES = (1024, 2048, 4096)
EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_PEM_CERTIFICATE = re.compile(
    r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL
)
_SUPPORTED_KEYS = "RSA 1024, 2048 or 4096 bits, or ECDSA P-256, P-384 or P-521"


class ServerCertificateNotFound(ApiError):
    code = "ServerCertificateId.NotFound"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="The specified ServerCertificateId does not exist.")


class CACertificateNotFound(ApiError):
    code = "CACertificateId.NotFound"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="The specified CACertificateId does not exist.")


class CertificateInUse(ApiError):
    code = "CertificateAndPrivateKeyIsRefered"

    def __init__(self) -> None:
        super().__init__(
            message="Certificate and PrivateKey Is Refered. A listener still uses "
            "this certificate; change or delete the listener first."
        )


class CertificateFormatError(ApiError):
    code = "KeyFormatError"

    def __init__(self) -> None:
        super().__init__(
            message="The specified ServerCertificate is incorrectly formatted. "
            "Send the PEM text, from -----BEGIN CERTIFICATE----- on."
        )


class PrivateKeyEncrypted(ApiError):
    code = "PrivateKeyEncryption"

    def __init__(self) -> None:
        super().__init__(
            message="Key has Encrypted . Upload the private key without a passphrase."
        )


class CertificateKeyMismatch(ApiError):
    code = "CertificateNotMatchPrivateKey"

    def __init__(self) -> None:
        super().__init__(message="Certificate and key does not match.")


class CertificateQuotaExceeded(ApiError):
    code = "OverQuota"

    def __init__(self, kind: str) -> None:
        super().__init__(
            message=f"The Total is over the quota: a region holds at most "
            f"{CERTIFICATES_PER_REGION} {kind} certificates."
        )


@dataclass
class CertificateRecord:
    """A server or CA certificate's metadata; never its private key."""

    certificate_id: str
    name: str
    region_id: str
    resource_group_id: str
    fingerprint: str
    common_name: str
    expire_time: float
    create_time: float
    subject_alternative_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ParsedCertificate:
    fingerprint: str
    common_name: str
    subject_alternative_names: list[str]
    expire_time: float
    public_key_der: bytes


def server_certificates(store: Store) -> dict[str, CertificateRecord]:
    return store.table("server_certificates", CertificateRecord)


def ca_certificates(store: Store) -> dict[str, CertificateRecord]:
    return store.table("ca_certificates", CertificateRecord)


def get_server_certificate(store: Store, cert_id: str | None) -> CertificateRecord:
    """The server certificate ``cert_id``, or the cloud's refusal."""
    if not cert_id:
        raise MissingParameter("ServerCertificateId")
    record = server_certificates(store).get(cert_id)
    if record is None:
        raise ServerCertificateNotFound()
    return record


def get_ca_certificate(store: Store, cert_id: str | None) -> CertificateRecord:
    """The CA certificate ``cert_id``, or the cloud's refusal."""
    if not cert_id:
        raise MissingParameter("CACertificateId")
    record = ca_certificates(store).get(cert_id)
    if record is None:
        raise CACertificateNotFound()
    return record


def in_region(
    table: dict[str, CertificateRecord], region_id: str
) -> list[CertificateRecord]:
    found = [cert for cert in table.values() if cert.region_id == region_id]
    return sorted(found, key=lambda cert: (cert.create_time, cert.certificate_id))


def new_certificate_id(store: Store, region_id: str) -> str:
    """``<uid>-<region>`` like the cloud's; server and CA ids share one space,
    since tags address both as the resource type ``certificate``."""
    number = store.next_number("certificate")
    uid = hashlib.sha256(f"certificate:{number}".encode()).hexdigest()[:16]
    return f"{uid}-{region_id}"


def parse_certificate(pem: str, *, on_error: ApiError) -> ParsedCertificate:
    """The first certificate of a PEM chain; every block must parse."""
    blocks = _PEM_CERTIFICATE.findall(pem)
    if not blocks:
        raise on_error
    try:
        chain = [x509.load_pem_x509_certificate(block.encode()) for block in blocks]
    except ValueError:
        raise on_error from None
    leaf = chain[0]
    return ParsedCertificate(
        fingerprint=":".join(f"{byte:02x}" for byte in leaf.fingerprint(hashes.SHA1())),
        common_name=_common_name(leaf),
        subject_alternative_names=_alternative_names(leaf),
        expire_time=leaf.not_valid_after_utc.timestamp(),
        public_key_der=leaf.public_key().public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        ),
    )


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return ""
    value = names[0].value
    return value if isinstance(value, str) else value.decode(errors="replace")


def _alternative_names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(
            x509.SubjectAlternativeName
        )
    except x509.ExtensionNotFound:
        return []
    names = extension.value
    dns = names.get_values_for_type(x509.DNSName)
    addresses = [str(ip) for ip in names.get_values_for_type(x509.IPAddress)]
    return [*dns, *addresses]


def check_private_key(pem: str, certificate: ParsedCertificate) -> None:
    """Refuse a key that is encrypted, malformed, unsupported or not the cert's.

    Nothing about the key outlives this call; errors never quote it.
    """
    if "ENCRYPTED" in pem:
        raise PrivateKeyEncrypted()
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError:
        # cryptography's answer for a key that needs a password
        raise PrivateKeyEncrypted() from None
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidParameter(
            "PrivateKey", "The specified parameter key format is error."
        ) from None

    supported = (
        isinstance(key, rsa.RSAPrivateKey) and key.key_size in RSA_KEY_SIZES
    ) or (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in EC_CURVES)
    if not supported:
        raise InvalidParameter(
            "PrivateKey",
            f"The specified parameter key format is error. Use {_SUPPORTED_KEYS}.",
        )

    public_der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public_der != certificate.public_key_der:
        raise CertificateKeyMismatch()


# Domain extensions: extra (SNI) certificates of an HTTPS listener, chosen by
# the domain a client asks for.

DOMAIN_EXTENSIONS_PER_LISTENER = 3


class DomainExtensionNotFound(ApiError):
    code = "InvalidParameter.DomainExtensionId"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="The specified DomainExtensionId does not exist.")


@dataclass
class DomainExtensionRecord:
    domain_extension_id: str
    load_balancer_id: str
    listener_port: int
    # The listener's create_time: an extension outlives no listener, and a
    # listener re-created on the same port starts without extensions.
    listener_create_time: float
    domain: str
    server_certificate_id: str
    sequence: int


def domain_extensions(store: Store) -> dict[str, DomainExtensionRecord]:
    return store.table("domain_extensions", DomainExtensionRecord)


def new_domain_extension(store: Store, **fields: Any) -> DomainExtensionRecord:
    extension_id = store.new_id("domain_extension", "de-")
    record = DomainExtensionRecord(
        domain_extension_id=extension_id,
        sequence=store.counters["domain_extension"],
        **fields,
    )
    domain_extensions(store)[extension_id] = record
    return record


def domain_extensions_of_listener(
    store: Store, lb_id: str, port: int, listener_create_time: float
) -> list[DomainExtensionRecord]:
    """An HTTPS listener's extensions, oldest first."""
    found = [
        record
        for record in domain_extensions(store).values()
        if record.load_balancer_id == lb_id
        and record.listener_port == port
        and record.listener_create_time == listener_create_time
    ]
    return sorted(found, key=lambda record: record.sequence)


def domain_extensions_using_certificate(
    store: Store, cert_id: str
) -> list[DomainExtensionRecord]:
    return [
        record
        for record in domain_extensions(store).values()
        if record.server_certificate_id == cert_id
    ]


def delete_domain_extensions_of_load_balancer(store: Store, lb_id: str) -> None:
    table = domain_extensions(store)
    for record in list(table.values()):
        if record.load_balancer_id == lb_id:
            del table[record.domain_extension_id]


def domain_extensions_body(store: Store, listener: Any) -> dict[str, Any]:
    """``DomainExtensions`` of an HTTPS listener's attribute answer:
    ``{"DomainExtension": [{DomainExtensionId, Domain, ServerCertificateId}]}``."""
    records = domain_extensions_of_listener(
        store, listener.load_balancer_id, listener.port, listener.create_time
    )
    return {
        "DomainExtension": [
            {
                "DomainExtensionId": record.domain_extension_id,
                "Domain": record.domain,
                "ServerCertificateId": record.server_certificate_id,
            }
            for record in records
        ]
    }
