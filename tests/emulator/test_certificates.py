"""Server and CA certificates through the official SDK, in both signature modes.

Certificates and keys are made here with ``cryptography``, once per module
(RSA key generation is the slow part).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

import pytest
from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from tests.emulator.slb_helpers import expect_refused

REGION = "cn-hangzhou"
NOW = dt.datetime.now(dt.UTC)


def make_certificate(
    key: Any,
    common_name: str = "chat.example.com",
    names: tuple[str, ...] = ("chat.example.com", "*.chat.example.com"),
    not_after: dt.datetime = NOW + dt.timedelta(days=365),
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=400))
        .not_valid_after(not_after)
    )
    if names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name) for name in names]),
            critical=False,
        )
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm)


def cert_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(
    key: Any,
    encryption: serialization.KeySerializationEncryption | None = None,
    format: serialization.PrivateFormat = serialization.PrivateFormat.PKCS8,
) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, format, encryption or serialization.NoEncryption()
    ).decode()


def fingerprint(certificate: x509.Certificate) -> str:
    return ":".join(f"{byte:02x}" for byte in certificate.fingerprint(hashes.SHA1()))


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ec_certificate(ec_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    return make_certificate(ec_key)


def upload(
    client: Client, certificate: str, private_key: str, **fields: Any
) -> models.UploadServerCertificateResponseBody:
    request = models.UploadServerCertificateRequest(
        region_id=REGION,
        server_certificate=certificate,
        private_key=private_key,
        **fields,
    )
    return client.upload_server_certificate(request).body


def server_certificates(
    client: Client, **fields: Any
) -> list[
    models.DescribeServerCertificatesResponseBodyServerCertificatesServerCertificate
]:
    request = models.DescribeServerCertificatesRequest(region_id=REGION, **fields)
    body = client.describe_server_certificates(request).body
    return body.server_certificates.server_certificate


def test_upload_rsa_certificate_reports_what_the_pem_holds(
    client: Client, rsa_key: rsa.RSAPrivateKey
) -> None:
    expiry = (NOW + dt.timedelta(days=90)).replace(microsecond=0)
    certificate = make_certificate(rsa_key, not_after=expiry)

    body = upload(
        client, cert_pem(certificate), key_pem(rsa_key), server_certificate_name="chat"
    )

    assert body.server_certificate_id.endswith(f"-{REGION}")
    assert body.server_certificate_name == "chat"
    assert body.fingerprint == fingerprint(certificate)
    assert re.fullmatch(r"([0-9a-f]{2}:){19}[0-9a-f]{2}", body.fingerprint)
    assert body.common_name == "chat.example.com"
    assert body.subject_alternative_names.subject_alternative_name == [
        "chat.example.com",
        "*.chat.example.com",
    ]
    assert body.expire_time == expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert body.expire_time_stamp == int(expiry.timestamp() * 1000)
    assert abs(body.create_time_stamp / 1000 - NOW.timestamp()) < 600
    assert body.is_ali_cloud_certificate == 0
    assert body.region_id == REGION


def test_upload_ecdsa_certificate_with_a_chain(
    client: Client, ec_key: ec.EllipticCurvePrivateKey, ec_certificate: x509.Certificate
) -> None:
    issuer_key = ec.generate_private_key(ec.SECP384R1())
    issuer = make_certificate(issuer_key, "Chat Test CA", names=())
    chain = cert_pem(ec_certificate) + cert_pem(issuer)

    body = upload(client, chain, key_pem(ec_key))

    assert body.fingerprint == fingerprint(ec_certificate)
    assert body.common_name == "chat.example.com"


def test_traditional_openssl_key_is_accepted(
    client: Client, rsa_key: rsa.RSAPrivateKey
) -> None:
    certificate = cert_pem(make_certificate(rsa_key))
    traditional = key_pem(
        rsa_key, format=serialization.PrivateFormat.TraditionalOpenSSL
    )

    assert traditional.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert upload(client, certificate, traditional).server_certificate_id


def test_key_of_another_certificate_is_refused(
    client: Client, ec_certificate: x509.Certificate, rsa_key: rsa.RSAPrivateKey
) -> None:
    other = ec.generate_private_key(ec.SECP256R1())

    for wrong in (other, rsa_key):
        error = expect_refused(
            lambda k=wrong: upload(client, cert_pem(ec_certificate), key_pem(k)),
            "CertificateNotMatchPrivateKey",
        )
        assert "does not match" in error.message
    assert server_certificates(client) == []


@pytest.mark.parametrize("format", ["PKCS8", "TraditionalOpenSSL"])
def test_encrypted_key_is_refused(
    client: Client,
    ec_key: ec.EllipticCurvePrivateKey,
    ec_certificate: x509.Certificate,
    format: str,
) -> None:
    encrypted = key_pem(
        ec_key,
        serialization.BestAvailableEncryption(b"passphrase"),
        getattr(serialization.PrivateFormat, format),
    )

    error = expect_refused(
        lambda: upload(client, cert_pem(ec_certificate), encrypted),
        "PrivateKeyEncryption",
    )

    assert "without a passphrase" in error.message


def test_garbage_certificate_is_key_format_error(
    client: Client, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    broken = (
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    )

    for text in ("hello", broken):
        error = expect_refused(
            lambda t=text: upload(client, t, key_pem(ec_key)), "KeyFormatError"
        )
        assert "ServerCertificate is incorrectly formatted" in error.message


def test_garbage_private_key_is_refused(
    client: Client, ec_certificate: x509.Certificate
) -> None:
    garbage = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"

    error = expect_refused(
        lambda: upload(client, cert_pem(ec_certificate), garbage),
        "InvalidParameter",
    )

    assert "key format is error" in error.message
    assert "bm90IGEga2V5" not in error.message


def test_unsupported_key_kind_is_refused(client: Client) -> None:
    for key in (
        ed25519.Ed25519PrivateKey.generate(),
        ec.generate_private_key(ec.SECP256K1()),
    ):
        certificate = cert_pem(make_certificate(key))
        error = expect_refused(
            lambda c=certificate, k=key: upload(client, c, key_pem(k)),
            "InvalidParameter",
        )
        assert "ECDSA P-256" in error.message


def test_missing_certificate_or_key_is_refused(
    client: Client, ec_certificate: x509.Certificate, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    for certificate, key in ((cert_pem(ec_certificate), None), (None, key_pem(ec_key))):
        error = expect_refused(
            lambda c=certificate, k=key: upload(client, c, k), "InvalidParameter"
        )
        assert error.message.startswith(
            "code: 400, The specified parameter ServerCertificate or Key is empty."
        )


def test_expired_certificate_is_accepted_with_its_past_expiry(
    client: Client, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    expired = make_certificate(ec_key, not_after=NOW - dt.timedelta(days=1))

    body = upload(client, cert_pem(expired), key_pem(ec_key))

    assert body.expire_time_stamp < NOW.timestamp() * 1000


def test_certificate_name_must_start_with_a_letter(
    client: Client,
    ec_certificate: x509.Certificate,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    error = expect_refused(
        lambda: upload(
            client,
            cert_pem(ec_certificate),
            key_pem(ec_key),
            server_certificate_name="1st",
        ),
        "InvalidParameter",
    )

    assert "ServerCertificateName" in error.message


def test_alicloud_certificate_reference_is_not_emulated(client: Client) -> None:
    request = models.UploadServerCertificateRequest(
        region_id=REGION, ali_cloud_certificate_id="775001"
    )

    error = expect_refused(
        lambda: client.upload_server_certificate(request), "NotEmulated", 501
    )

    assert "AliCloudCertificateId" in error.message


def test_describe_lists_filters_and_shows_tags(
    client: Client, ec_certificate: x509.Certificate, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    tag = models.UploadServerCertificateRequestTag(key="app", value="chat")
    first = upload(client, cert_pem(ec_certificate), key_pem(ec_key), tag=[tag])
    second = upload(client, cert_pem(ec_certificate), key_pem(ec_key))

    everything = server_certificates(client)
    by_id = server_certificates(
        client, server_certificate_id=second.server_certificate_id
    )
    by_tag = server_certificates(
        client,
        tag=[models.DescribeServerCertificatesRequestTag(key="app", value="chat")],
    )

    ids = [first.server_certificate_id, second.server_certificate_id]
    assert [cert.server_certificate_id for cert in everything] == ids
    assert [cert.server_certificate_id for cert in by_id] == ids[1:]
    assert [cert.server_certificate_id for cert in by_tag] == ids[:1]
    shown = by_tag[0]
    assert shown.fingerprint == fingerprint(ec_certificate)
    assert shown.expire_time_stamp == first.expire_time_stamp
    assert shown.subject_alternative_names.subject_alternative_name == [
        "chat.example.com",
        "*.chat.example.com",
    ]
    assert [(t.tag_key, t.tag_value) for t in shown.tags.tag] == [("app", "chat")]


def test_rename_and_delete_server_certificate(
    client: Client, ec_certificate: x509.Certificate, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    cert_id = upload(
        client, cert_pem(ec_certificate), key_pem(ec_key)
    ).server_certificate_id

    client.set_server_certificate_name(
        models.SetServerCertificateNameRequest(
            region_id=REGION,
            server_certificate_id=cert_id,
            server_certificate_name="renamed",
        )
    )
    assert server_certificates(client)[0].server_certificate_name == "renamed"
    delete = models.DeleteServerCertificateRequest(
        region_id=REGION, server_certificate_id=cert_id
    )
    client.delete_server_certificate(delete)

    assert server_certificates(client) == []
    error = expect_refused(
        lambda: client.delete_server_certificate(delete),
        "ServerCertificateId.NotFound",
        404,
    )
    assert "does not exist" in error.message


def test_region_holds_at_most_a_hundred_server_certificates(
    client: Client,
    ec_certificate: x509.Certificate,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    for _ in range(100):
        upload(client, cert_pem(ec_certificate), key_pem(ec_key))

    error = expect_refused(
        lambda: upload(client, cert_pem(ec_certificate), key_pem(ec_key)),
        "OverQuota",
    )

    assert "100" in error.message


def _https_listener(client: Client, cert_id: str, ca_id: str | None = None) -> str:
    lb_id = client.create_load_balancer(
        models.CreateLoadBalancerRequest(region_id=REGION, load_balancer_name="web")
    ).body.load_balancer_id
    client.create_load_balancer_httpslistener(
        models.CreateLoadBalancerHTTPSListenerRequest(
            region_id=REGION,
            load_balancer_id=lb_id,
            listener_port=443,
            backend_server_port=8080,
            bandwidth=-1,
            health_check="off",
            server_certificate_id=cert_id,
            cacertificate_id=ca_id,
        )
    )
    return lb_id


def upload_ca(client: Client, certificate: str, **fields: Any) -> str:
    request = models.UploadCACertificateRequest(
        region_id=REGION, cacertificate=certificate, **fields
    )
    return client.upload_cacertificate(request).body.cacertificate_id


def test_certificates_used_by_a_listener_cannot_be_deleted(
    client: Client, ec_certificate: x509.Certificate, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    cert_id = upload(
        client, cert_pem(ec_certificate), key_pem(ec_key)
    ).server_certificate_id
    ca_id = upload_ca(client, cert_pem(ec_certificate))
    _https_listener(client, cert_id, ca_id)

    server = models.DeleteServerCertificateRequest(
        region_id=REGION, server_certificate_id=cert_id
    )
    ca = models.DeleteCACertificateRequest(region_id=REGION, cacertificate_id=ca_id)
    error = expect_refused(
        lambda: client.delete_server_certificate(server),
        "CertificateAndPrivateKeyIsRefered",
    )
    expect_refused(
        lambda: client.delete_cacertificate(ca), "CertificateAndPrivateKeyIsRefered"
    )

    assert "listener" in error.message
    assert len(server_certificates(client)) == 1


def ca_certificates(
    client: Client, **fields: Any
) -> list[models.DescribeCACertificatesResponseBodyCACertificatesCACertificate]:
    request = models.DescribeCACertificatesRequest(region_id=REGION, **fields)
    return client.describe_cacertificates(request).body.cacertificates.cacertificate


def test_ca_certificate_upload_describe_rename_delete(
    client: Client, rsa_key: rsa.RSAPrivateKey
) -> None:
    authority = make_certificate(rsa_key, "Chat Client CA", names=())
    request = models.UploadCACertificateRequest(
        region_id=REGION,
        cacertificate=cert_pem(authority),
        cacertificate_name="clients",
    )

    uploaded = client.upload_cacertificate(request).body
    client.set_cacertificate_name(
        models.SetCACertificateNameRequest(
            region_id=REGION,
            cacertificate_id=uploaded.cacertificate_id,
            cacertificate_name="client-ca",
        )
    )
    listed = ca_certificates(client, cacertificate_id=uploaded.cacertificate_id)

    assert uploaded.cacertificate_name == "clients"
    assert uploaded.fingerprint == fingerprint(authority)
    assert uploaded.common_name == "Chat Client CA"
    assert (
        uploaded.expire_time_stamp
        == int(authority.not_valid_after_utc.timestamp()) * 1000
    )
    assert [(c.cacertificate_name, c.fingerprint, c.region_id) for c in listed] == [
        ("client-ca", fingerprint(authority), REGION)
    ]
    client.delete_cacertificate(
        models.DeleteCACertificateRequest(
            region_id=REGION, cacertificate_id=uploaded.cacertificate_id
        )
    )
    assert ca_certificates(client) == []


def test_garbage_ca_certificate_and_unknown_id_are_refused(client: Client) -> None:
    error = expect_refused(
        lambda: upload_ca(client, "not a certificate"), "InvalidParameter"
    )
    assert "CACertificate format is error" in error.message

    rename = models.SetCACertificateNameRequest(
        region_id=REGION, cacertificate_id="nope-cn-hangzhou", cacertificate_name="x"
    )
    expect_refused(
        lambda: client.set_cacertificate_name(rename), "CACertificateId.NotFound", 404
    )


def test_server_and_ca_certificates_are_listed_apart(
    client: Client,
    ec_certificate: x509.Certificate,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    upload(client, cert_pem(ec_certificate), key_pem(ec_key))
    ca_id = upload_ca(client, cert_pem(ec_certificate))

    assert [c.cacertificate_id for c in ca_certificates(client)] == [ca_id]
    assert len(server_certificates(client)) == 1


def _key_fragments(pem: str) -> list[str]:
    """Pieces of a key's base64 body, long enough never to appear by chance."""
    body = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    return [body[start : start + 24] for start in range(0, len(body) - 24, 24)]


def test_private_key_appears_in_no_answer_state_or_log(
    client: Client,
    emulator: Any,
    rsa_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The emulator's own log, at every level; the SDK client's urllib3 logs
    # whole request URLs at DEBUG, which is the caller's business.
    caplog.set_level(logging.DEBUG, logger="slbsync")
    private = key_pem(rsa_key)
    certificate = cert_pem(make_certificate(rsa_key))

    uploaded = upload(client, certificate, private)
    mismatch = make_certificate(ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(AlibabaCloudException) as refusal:
        upload(client, cert_pem(mismatch), private)
    described = client.describe_server_certificates(
        models.DescribeServerCertificatesRequest(region_id=REGION)
    ).body

    seen = "\n".join(
        [
            json.dumps(uploaded.to_map()),
            json.dumps(described.to_map()),
            json.dumps(refusal.value.data),
            json.dumps(emulator.control("GET", "state")),
            "\n".join(
                record.getMessage()
                for record in caplog.records
                if record.name.startswith("slbsync")
            ),
        ]
    )
    fragments = _key_fragments(private)
    assert len(fragments) > 40
    assert not [fragment for fragment in fragments if fragment in seen]
    assert "PRIVATE KEY" not in seen


@pytest.fixture
def https_site(
    client: Client, ec_certificate: x509.Certificate, ec_key: ec.EllipticCurvePrivateKey
) -> tuple[str, str]:
    """A load balancer with an HTTPS listener on 443; (its id, the cert id)."""
    cert_id = upload(
        client, cert_pem(ec_certificate), key_pem(ec_key)
    ).server_certificate_id
    return _https_listener(client, cert_id), cert_id


def create_extension(client: Client, lb_id: str, domain: str, cert_id: str) -> str:
    request = models.CreateDomainExtensionRequest(
        region_id=REGION,
        load_balancer_id=lb_id,
        listener_port=443,
        domain=domain,
        server_certificate_id=cert_id,
    )
    body = client.create_domain_extension(request).body
    assert body.listener_port == 443
    return body.domain_extension_id


def extensions(client: Client, lb_id: str, **fields: Any) -> list[Any]:
    request = models.DescribeDomainExtensionsRequest(
        region_id=REGION, load_balancer_id=lb_id, listener_port=443, **fields
    )
    return client.describe_domain_extensions(
        request
    ).body.domain_extensions.domain_extension


def extension_attribute(client: Client, extension_id: str) -> Any:
    request = models.DescribeDomainExtensionAttributeRequest(
        region_id=REGION, domain_extension_id=extension_id
    )
    return client.describe_domain_extension_attribute(request).body


def test_domain_extension_lifecycle(
    client: Client,
    https_site: tuple[str, str],
    ec_certificate: x509.Certificate,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    lb_id, cert_id = https_site
    other_cert = upload(
        client, cert_pem(ec_certificate), key_pem(ec_key)
    ).server_certificate_id

    first = create_extension(client, lb_id, "chat.example.com", cert_id)
    second = create_extension(client, lb_id, "*.example.org", other_cert)
    client.set_domain_extension_attribute(
        models.SetDomainExtensionAttributeRequest(
            region_id=REGION,
            domain_extension_id=first,
            server_certificate_id=other_cert,
        )
    )

    assert re.fullmatch(r"de-[0-9a-z]{22}", first)
    listed = extensions(client, lb_id)
    assert [
        (e.domain_extension_id, e.domain, e.server_certificate_id) for e in listed
    ] == [
        (first, "chat.example.com", other_cert),
        (second, "*.example.org", other_cert),
    ]
    assert [
        e.domain for e in extensions(client, lb_id, domain_extension_id=second)
    ] == ["*.example.org"]
    body = extension_attribute(client, second)
    assert (body.load_balancer_id, body.listener_port, body.domain) == (
        lb_id,
        443,
        "*.example.org",
    )
    client.delete_domain_extension(
        models.DeleteDomainExtensionRequest(region_id=REGION, domain_extension_id=first)
    )
    assert [e.domain_extension_id for e in extensions(client, lb_id)] == [second]
    error = expect_refused(
        lambda: extension_attribute(client, first),
        "InvalidParameter.DomainExtensionId",
        404,
    )
    assert "does not exist" in error.message


def test_domain_extension_checks(client: Client, https_site: tuple[str, str]) -> None:
    lb_id, cert_id = https_site
    for domain in ("a.example.com", "b.example.com", "c.example.com"):
        create_extension(client, lb_id, domain, cert_id)

    duplicate = expect_refused(
        lambda: create_extension(client, lb_id, "a.example.com", cert_id),
        "InvalidParameter",
    )
    quota = expect_refused(
        lambda: create_extension(client, lb_id, "d.example.com", cert_id),
        "OverQuota",
    )
    expect_refused(
        lambda: create_extension(client, lb_id, "bad domain", cert_id),
        "InvalidParameter",
    )
    expect_refused(
        lambda: create_extension(client, lb_id, "e.example.com", "nope-cn-hangzhou"),
        "ServerCertificateId.NotFound",
        404,
    )

    assert "already" in duplicate.message and "3" in quota.message
    assert len(extensions(client, lb_id)) == 3


def test_certificate_of_a_domain_extension_cannot_be_deleted(
    client: Client,
    https_site: tuple[str, str],
    ec_certificate: x509.Certificate,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    lb_id, _ = https_site
    extra = upload(
        client, cert_pem(ec_certificate), key_pem(ec_key)
    ).server_certificate_id
    create_extension(client, lb_id, "chat.example.com", extra)
    request = models.DeleteServerCertificateRequest(
        region_id=REGION, server_certificate_id=extra
    )

    expect_refused(
        lambda: client.delete_server_certificate(request),
        "CertificateAndPrivateKeyIsRefered",
    )


def test_deleting_the_listener_or_load_balancer_drops_extensions(
    client: Client, https_site: tuple[str, str], emulator: Any
) -> None:
    lb_id, cert_id = https_site
    extension_id = create_extension(client, lb_id, "chat.example.com", cert_id)

    client.delete_load_balancer_listener(
        models.DeleteLoadBalancerListenerRequest(
            region_id=REGION, load_balancer_id=lb_id, listener_port=443
        )
    )
    expect_refused(
        lambda: extension_attribute(client, extension_id),
        "InvalidParameter.DomainExtensionId",
        404,
    )
    client.create_load_balancer_httpslistener(
        models.CreateLoadBalancerHTTPSListenerRequest(
            region_id=REGION,
            load_balancer_id=lb_id,
            listener_port=443,
            backend_server_port=8080,
            bandwidth=-1,
            health_check="off",
            server_certificate_id=cert_id,
        )
    )
    assert extensions(client, lb_id) == []
    create_extension(client, lb_id, "chat.example.com", cert_id)

    client.delete_load_balancer(
        models.DeleteLoadBalancerRequest(region_id=REGION, load_balancer_id=lb_id)
    )

    assert emulator.control("GET", "state")["tables"]["domain_extensions"] == {}


def test_certificate_of_another_region_is_not_found(
    client: Client,
    ec_certificate: x509.Certificate,
    ec_key: ec.EllipticCurvePrivateKey,
) -> None:
    cert_id = upload(
        client, cert_pem(ec_certificate), key_pem(ec_key)
    ).server_certificate_id
    ca_id = upload_ca(client, cert_pem(ec_certificate))
    rename = models.SetServerCertificateNameRequest(
        region_id="cn-beijing",
        server_certificate_id=cert_id,
        server_certificate_name="x",
    )
    delete_ca = models.DeleteCACertificateRequest(
        region_id="cn-beijing", cacertificate_id=ca_id
    )

    expect_refused(
        lambda: client.set_server_certificate_name(rename),
        "ServerCertificateId.NotFound",
        404,
    )
    expect_refused(
        lambda: client.delete_cacertificate(delete_ca),
        "CACertificateId.NotFound",
        404,
    )
    beijing = models.DescribeServerCertificatesRequest(region_id="cn-beijing")
    assert (
        client.describe_server_certificates(
            beijing
        ).body.server_certificates.server_certificate
        == []
    )
