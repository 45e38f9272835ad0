"""Server and CA certificate actions (upload, describe, rename, delete) and
domain extensions, the extra certificates of HTTPS listeners.

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
from slbsync.emulator.errors import ApiError, InvalidParameter, MissingParameter
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import certificates as cert_state
from slbsync.emulator.state import listeners as listener_state
from slbsync.emulator.state import load_balancers as lb_state
from slbsync.emulator.state import tags as tag_state
from slbsync.emulator.state.certificates import (
    CertificateRecord,
    DomainExtensionRecord,
    ParsedCertificate,
)
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
    """Upload a certificate and its private key; the key is checked, not kept.

    https://api.aliyun.com/document/Slb/2014-05-15/UploadServerCertificate
    """
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
    """The region's server certificates, by id (comma list), group and tags.

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeServerCertificates
    """
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
    """Rename a server certificate.

    https://api.aliyun.com/document/Slb/2014-05-15/SetServerCertificateName
    """
    cert = _in_region(ctx, server=True)
    cert.name = _name(ctx, "ServerCertificateName", required=True)
    return {}


@action("DeleteServerCertificate", writes=True)
def delete_server_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Delete a server certificate no listener uses.

    https://api.aliyun.com/document/Slb/2014-05-15/DeleteServerCertificate
    """
    cert = _in_region(ctx, server=True)
    _refuse_in_use(ctx.store, cert.certificate_id)
    del cert_state.server_certificates(ctx.store)[cert.certificate_id]
    tag_state.remove_all_tags(ctx.store, TAG_TYPE, cert.certificate_id)
    return {}


def _in_region(ctx: ActionContext, *, server: bool) -> CertificateRecord:
    """The certificate the request names; another region's is not found."""
    if server:
        cert = cert_state.get_server_certificate(
            ctx.store, ctx.params.str("ServerCertificateId")
        )
        not_found: type[ApiError] = cert_state.ServerCertificateNotFound
    else:
        cert = cert_state.get_ca_certificate(
            ctx.store, ctx.params.str("CACertificateId")
        )
        not_found = cert_state.CACertificateNotFound
    if cert.region_id != ctx.region_id:
        raise not_found()
    return cert


def _refuse_in_use(store: Store, cert_id: str) -> None:
    _purge_orphans(store)
    if listener_state.listeners_using_certificate(
        store, cert_id
    ) or cert_state.domain_extensions_using_certificate(store, cert_id):
        raise cert_state.CertificateInUse()


@action("UploadCACertificate", writes=True)
def upload_ca_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Upload a CA certificate for mutual TLS on HTTPS listeners.

    https://api.aliyun.com/document/Slb/2014-05-15/UploadCACertificate
    """
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
    """The region's CA certificates, by id (comma list), group and tags.

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeCACertificates
    """
    table = cert_state.ca_certificates(ctx.store)
    found = _select(ctx, table, "CACertificateId")
    return {
        "CACertificates": {
            "CACertificate": [_with_tags(ctx.store, cert, _ca_fields) for cert in found]
        }
    }


@action("SetCACertificateName", writes=True)
def set_ca_certificate_name(ctx: ActionContext) -> dict[str, Any]:
    """Rename a CA certificate.

    https://api.aliyun.com/document/Slb/2014-05-15/SetCACertificateName
    """
    cert = _in_region(ctx, server=False)
    cert.name = _name(ctx, "CACertificateName", required=True)
    return {}


@action("DeleteCACertificate", writes=True)
def delete_ca_certificate(ctx: ActionContext) -> dict[str, Any]:
    """Delete a CA certificate no listener uses.

    https://api.aliyun.com/document/Slb/2014-05-15/DeleteCACertificate
    """
    cert = _in_region(ctx, server=False)
    _refuse_in_use(ctx.store, cert.certificate_id)
    del cert_state.ca_certificates(ctx.store)[cert.certificate_id]
    tag_state.remove_all_tags(ctx.store, TAG_TYPE, cert.certificate_id)
    return {}


# Domain extensions: extra certificates of an HTTPS listener, by domain.
# Reference: https://www.alibabacloud.com/help/en/slb/classic-load-balancer/
# developer-reference/api-slb-2014-05-15-createdomainextension

DOMAIN = r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*"


def _listener_of_extension(
    store: Store, record: DomainExtensionRecord
) -> listener_state.ListenerRecord | None:
    """The HTTPS listener an extension belongs to, if it still exists."""
    try:
        listener = listener_state.get_listener(
            store, record.load_balancer_id, "https", record.listener_port
        )
    except ApiError:
        return None
    if listener.create_time != record.listener_create_time:
        return None
    return listener


def _purge_orphans(store: Store) -> None:
    """Forget the extensions of listeners deleted since (the listeners
    module drops only a listener's rules and tags)."""
    table = cert_state.domain_extensions(store)
    for record in list(table.values()):
        if _listener_of_extension(store, record) is None:
            del table[record.domain_extension_id]


def _extension(ctx: ActionContext) -> tuple[DomainExtensionRecord, Any]:
    extension_id = ctx.params.str("DomainExtensionId")
    if not extension_id:
        raise MissingParameter("DomainExtensionId")
    record = cert_state.domain_extensions(ctx.store).get(extension_id)
    listener = None if record is None else _listener_of_extension(ctx.store, record)
    if record is None or listener is None:
        raise cert_state.DomainExtensionNotFound()
    return record, listener


def _https_listener(ctx: ActionContext, *, for_write: bool) -> Any:
    lb = lb_state.get_load_balancer(
        ctx.store, ctx.params.str("LoadBalancerId"), for_write=for_write
    )
    port = ctx.params.int("ListenerPort", required=True, minimum=1, maximum=65535)
    assert port is not None
    return listener_state.get_listener(ctx.store, lb.load_balancer_id, "https", port)


@action("CreateDomainExtension", writes=True)
def create_domain_extension(ctx: ActionContext) -> dict[str, Any]:
    """Add a certificate for one domain to an HTTPS listener (3 per listener).

    https://api.aliyun.com/document/Slb/2014-05-15/CreateDomainExtension
    """
    listener = _https_listener(ctx, for_write=True)
    domain = ctx.params.require("Domain")
    if len(domain) > 80 or not re.fullmatch(DOMAIN, domain):
        raise InvalidParameter(
            "Domain", "Use a domain name or a *. wildcard domain, up to 80 characters."
        )
    cert = cert_state.get_server_certificate(
        ctx.store, ctx.params.str("ServerCertificateId")
    )
    _purge_orphans(ctx.store)
    present = cert_state.domain_extensions_of_listener(
        ctx.store, listener.load_balancer_id, listener.port, listener.create_time
    )
    if any(record.domain == domain for record in present):
        raise ApiError(
            "InvalidParameter",
            f'The resource already exists: "{domain}" has an extension already.',
        )
    if len(present) >= cert_state.DOMAIN_EXTENSIONS_PER_LISTENER:
        raise ApiError(
            "OverQuota",
            "The Total is over the quota: an HTTPS listener holds at most "
            f"{cert_state.DOMAIN_EXTENSIONS_PER_LISTENER} domain extensions.",
        )
    listener_state.check_not_configuring(ctx, listener)

    record = cert_state.new_domain_extension(
        ctx.store,
        load_balancer_id=listener.load_balancer_id,
        listener_port=listener.port,
        listener_create_time=listener.create_time,
        domain=domain,
        server_certificate_id=cert.certificate_id,
    )
    listener_state.mark_configuring(ctx, listener)
    return {
        "DomainExtensionId": record.domain_extension_id,
        "ListenerPort": listener.port,
    }


@action("DeleteDomainExtension", writes=True)
def delete_domain_extension(ctx: ActionContext) -> dict[str, Any]:
    """Remove one domain extension.

    https://api.aliyun.com/document/Slb/2014-05-15/DeleteDomainExtension
    """
    record, listener = _extension(ctx)
    lb_state.get_load_balancer(ctx.store, record.load_balancer_id, for_write=True)
    listener_state.check_not_configuring(ctx, listener)
    del cert_state.domain_extensions(ctx.store)[record.domain_extension_id]
    _purge_orphans(ctx.store)
    listener_state.mark_configuring(ctx, listener)
    return {}


@action("SetDomainExtensionAttribute", writes=True)
def set_domain_extension_attribute(ctx: ActionContext) -> dict[str, Any]:
    """Swap the certificate of a domain extension.

    https://api.aliyun.com/document/Slb/2014-05-15/SetDomainExtensionAttribute
    """
    record, listener = _extension(ctx)
    lb_state.get_load_balancer(ctx.store, record.load_balancer_id, for_write=True)
    cert = cert_state.get_server_certificate(
        ctx.store, ctx.params.str("ServerCertificateId")
    )
    listener_state.check_not_configuring(ctx, listener)
    record.server_certificate_id = cert.certificate_id
    listener_state.mark_configuring(ctx, listener)
    return {}


@action("DescribeDomainExtensions")
def describe_domain_extensions(ctx: ActionContext) -> dict[str, Any]:
    """An HTTPS listener's domain extensions, optionally one by id.

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeDomainExtensions
    """
    listener = _https_listener(ctx, for_write=False)
    wanted = ctx.params.str("DomainExtensionId")
    body = cert_state.domain_extensions_body(ctx.store, listener)
    if wanted is not None:
        body["DomainExtension"] = [
            item
            for item in body["DomainExtension"]
            if item["DomainExtensionId"] == wanted
        ]
    return {"DomainExtensions": body}


@action("DescribeDomainExtensionAttribute")
def describe_domain_extension_attribute(ctx: ActionContext) -> dict[str, Any]:
    """One domain extension with its load balancer and port.

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeDomainExtensionAttribute
    """
    record, _ = _extension(ctx)
    return {
        "DomainExtensionId": record.domain_extension_id,
        "Domain": record.domain,
        "ServerCertificateId": record.server_certificate_id,
        "LoadBalancerId": record.load_balancer_id,
        "ListenerPort": record.listener_port,
    }


lb_state.register_cleanup(cert_state.delete_domain_extensions_of_load_balancer)
