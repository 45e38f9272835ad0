"""Server and CA certificate actions: upload, describe, rename, delete.

Reference: https://www.alibabacloud.com/help/en/slb/classic-load-balancer/
developer-reference/api-slb-2014-05-15-uploadservercertificate (and the
neighbouring pages for each action below).

Not emulated: certificates from Alibaba Cloud's certificate service
(``AliCloudCertificateId``, ``AliCloudCertificateName``,
``AliCloudCertificateRegionId``); a request naming one is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from slbsync.emulator.actions.load_balancers import DEFAULT_RESOURCE_GROUP
from slbsync.emulator.errors import ApiError, InvalidParameter, NotEmulated
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import certificates as cert_state
from slbsync.emulator.state import listeners as listener_state
from slbsync.emulator.state import tags as tag_state
from slbsync.emulator.state.certificates import CertificateRecord, ParsedCertificate
from slbsync.emulator.state.store import Store

RESOURCE_GROUP = r"rg-[\w-]{1,60}"
TAG_TYPE = "certificate"
_ALICLOUD_CERTIFICATE = (
    "AliCloudCertificateId",
    "AliCloudCertificateName",
    "AliCloudCertificateRegionId",
)


def _iso_time(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _name(ctx: ActionContext, parameter: str, *, required: bool) -> str:
    name = ctx.params.str(parameter, required=required)
    if name is None:
        return ""
    if not re.fullmatch(cert_state.NAME_PATTERN, name):
        raise InvalidParameter(
            parameter,
            "Use 1 to 80 characters starting with a letter: letters, digits, "
            "periods (.), underscores (_) or hyphens (-).",
        )
    return name


def _new_record(
    ctx: ActionContext, name: str, parsed: ParsedCertificate
) -> CertificateRecord:
    return CertificateRecord(
        certificate_id=cert_state.new_certificate_id(ctx.store, ctx.region_id),
        name=name,
        region_id=ctx.region_id,
        resource_group_id=ctx.params.str("ResourceGroupId", pattern=RESOURCE_GROUP)
        or DEFAULT_RESOURCE_GROUP,
        fingerprint=parsed.fingerprint,
        common_name=parsed.common_name,
        expire_time=parsed.expire_time,
        create_time=ctx.now,
        subject_alternative_names=list(parsed.subject_alternative_names),
    )


def _common_fields(cert: CertificateRecord) -> dict[str, Any]:
    return {
        "Fingerprint": cert.fingerprint,
        "CommonName": cert.common_name,
        "ExpireTime": _iso_time(cert.expire_time),
        "ExpireTimeStamp": int(cert.expire_time * 1000),
        "CreateTime": _iso_time(cert.create_time),
        "CreateTimeStamp": int(cert.create_time * 1000),
        "RegionId": cert.region_id,
        "ResourceGroupId": cert.resource_group_id,
    }


def _server_fields(cert: CertificateRecord) -> dict[str, Any]:
    return {
        "ServerCertificateId": cert.certificate_id,
        "ServerCertificateName": cert.name,
        "SubjectAlternativeNames": {
            "SubjectAlternativeName": list(cert.subject_alternative_names)
        },
        "IsAliCloudCertificate": 0,
        "AliCloudCertificateId": "",
        "AliCloudCertificateName": "",
        **_common_fields(cert),
    }


def _ca_fields(cert: CertificateRecord) -> dict[str, Any]:
    return {
        "CACertificateId": cert.certificate_id,
        "CACertificateName": cert.name,
        **_common_fields(cert),
    }


def _select(
    ctx: ActionContext, table: dict[str, CertificateRecord], id_parameter: str
) -> list[CertificateRecord]:
    """The region's certificates matching the ids, resource group and tags."""
    ids = {part.strip() for part in (ctx.params.str(id_parameter) or "").split(",")}
    ids.discard("")
    group = ctx.params.str("ResourceGroupId")
    # A tag filter without a value matches any value of that key.
    wanted = [(key, value or None) for key, value in ctx.params.tags()]
    return [
        cert
        for cert in cert_state.in_region(table, ctx.region_id)
        if (not ids or cert.certificate_id in ids)
        and (group is None or cert.resource_group_id == group)
        and tag_state.has_tags(ctx.store, TAG_TYPE, cert.certificate_id, wanted)
    ]


def _with_tags(
    store: Store,
    cert: CertificateRecord,
    fields: Callable[[CertificateRecord], dict[str, Any]],
) -> dict[str, Any]:
    body = fields(cert)
    body["Tags"] = tag_state.tags_body(
        tag_state.tags_of(store, TAG_TYPE, cert.certificate_id)
    )
    return body


def _store_new(
    ctx: ActionContext, table: dict[str, CertificateRecord], record: CertificateRecord
) -> None:
    pairs = ctx.params.tags()
    table[record.certificate_id] = record
    if pairs:
        tag_state.set_tags(ctx.store, TAG_TYPE, record.certificate_id, pairs)


@action("UploadServerCertificate", writes=True, not_emulated=_ALICLOUD_CERTIFICATE)
def upload_server_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Upload a certificate and its private key; the key is checked, not kept."""
    certificate = ctx.params.str("ServerCertificate")
    private_key = ctx.params.str("PrivateKey")
    if not certificate or not private_key:
        raise ApiError(
            "InvalidParameter",
            "The specified parameter ServerCertificate or Key is empty.",
        )
    name = _name(ctx, "ServerCertificateName", required=False)
    tag_state.check_tags(ctx.params.tags())
    parsed = cert_state.parse_certificate(
        certificate, on_error=cert_state.CertificateFormatError()
    )
    cert_state.check_private_key(private_key, parsed)
    table = cert_state.server_certificates(ctx.store)
    if (
        len(cert_state.in_region(table, ctx.region_id))
        >= cert_state.CERTIFICATES_PER_REGION
    ):
        raise cert_state.CertificateQuotaExceeded("server")

    record = _new_record(ctx, name, parsed)
    _store_new(ctx, table, record)
    return _server_fields(record)


@action("DescribeServerCertificates")
def describe_server_certificates(ctx: ActionContext) -> dict[str, Any]:
    """The region's server certificates, by id (comma list), group and tags."""
    table = cert_state.server_certificates(ctx.store)
    found = _select(ctx, table, "ServerCertificateId")
    return {
        "ServerCertificates": {
            "ServerCertificate": [
                _with_tags(ctx.store, cert, _server_fields) for cert in found
            ]
        }
    }


@action("SetServerCertificateName", writes=True)
def set_server_certificate_name(ctx: ActionContext) -> dict[str, Any]:
    """Rename a server certificate."""
    cert = cert_state.get_server_certificate(
        ctx.store, ctx.params.str("ServerCertificateId")
    )
    cert.name = _name(ctx, "ServerCertificateName", required=True)
    return {}


@action("DeleteServerCertificate", writes=True)
def delete_server_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Delete a server certificate no listener uses."""
    cert = cert_state.get_server_certificate(
        ctx.store, ctx.params.str("ServerCertificateId")
    )
    _refuse_in_use(ctx.store, cert.certificate_id)
    del cert_state.server_certificates(ctx.store)[cert.certificate_id]
    tag_state.remove_all_tags(ctx.store, TAG_TYPE, cert.certificate_id)
    return {}


def _refuse_in_use(store: Store, cert_id: str) -> None:
    if listener_state.listeners_using_certificate(store, cert_id):
        raise cert_state.CertificateInUse()


@action("UploadCACertificate", writes=True)
def upload_ca_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Upload a CA certificate for mutual TLS on HTTPS listeners."""
    certificate = ctx.params.require("CACertificate")
    name = _name(ctx, "CACertificateName", required=False)
    tag_state.check_tags(ctx.params.tags())
    parsed = cert_state.parse_certificate(
        certificate,
        on_error=ApiError(
            "InvalidParameter",
            "The specified parameter CACertificate format is error. Send the PEM "
            "text, from -----BEGIN CERTIFICATE----- on.",
        ),
    )
    table = cert_state.ca_certificates(ctx.store)
    if (
        len(cert_state.in_region(table, ctx.region_id))
        >= cert_state.CERTIFICATES_PER_REGION
    ):
        raise cert_state.CertificateQuotaExceeded("CA")

    record = _new_record(ctx, name, parsed)
    _store_new(ctx, table, record)
    body = _ca_fields(record)
    del body["RegionId"]  # not part of the upload answer
    return body


@action("DescribeCACertificates")
def describe_ca_certificates(ctx: ActionContext) -> dict[str, Any]:
    """The region's CA certificates, by id (comma list), group and tags."""
    table = cert_state.ca_certificates(ctx.store)
    found = _select(ctx, table, "CACertificateId")
    return {
        "CACertificates": {
            "CACertificate": [_with_tags(ctx.store, cert, _ca_fields) for cert in found]
        }
    }


@action("SetCACertificateName", writes=True)
def set_ca_certificate_name(ctx: ActionContext) -> dict[str, Any]:
    """Rename a CA certificate."""
    cert = cert_state.get_ca_certificate(ctx.store, ctx.params.str("CACertificateId"))
    cert.name = _name(ctx, "CACertificateName", required=True)
    return {}


@action("DeleteCACertificate", writes=True)
def delete_ca_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Delete a CA certificate no listener uses."""
    cert = cert_state.get_ca_certificate(ctx.store, ctx.params.str("CACertificateId"))
    _refuse_in_use(ctx.store, cert.certificate_id)
    del cert_state.ca_certificates(ctx.store)[cert.certificate_id]
    tag_state.remove_all_tags(ctx.store, TAG_TYPE, cert.certificate_id)
    return {}


def _refuse_domain_extensions(ctx: ActionContext) -> dict[str, Any]:
    """Extra (SNI) certificates on HTTPS listeners are not emulated.

    TODO(emulator): domain extensions are refused with NotEmulated, so a spec
    with per-domain certificates cannot be tried offline; model them as
    records of (listener, domain, certificate), at most 3 per listener.
    """
    raise NotEmulated(f"Action {ctx.action}")


for _name_of_action in (
    "CreateDomainExtension",
    "DeleteDomainExtension",
    "DescribeDomainExtensions",
    "DescribeDomainExtensionAttribute",
    "SetDomainExtensionAttribute",
):
    action(_name_of_action, writes=False)(_refuse_domain_extensions)
