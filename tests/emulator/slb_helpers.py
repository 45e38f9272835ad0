"""Calling the emulator through the official SDK with little ceremony.

``call(client, "CreateVServerGroup", load_balancer_id=...)`` builds the SDK's
own request model and calls the SDK's own method, then insists the SDK could
parse the body (a wrong container shape makes it ``None`` silently).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from alibabacloud_slb20140515 import models
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException


@cache
def _method_name(client_type: type, action: str) -> str:
    for name in dir(client_type):
        if name.replace("_", "") == action.lower():
            return name
    raise AttributeError(f"the SDK has no method for {action}")


def call(client: Any, action: str, **fields: Any) -> Any:
    """The parsed response body of ``action`` (never None)."""
    request = getattr(models, f"{action}Request")(**fields)
    response = getattr(client, _method_name(type(client), action))(request)
    assert response.body is not None, f"{action}: the SDK could not parse the body"
    return response.body


def refused(client: Any, action: str, **fields: Any) -> AlibabaCloudException:
    """The error the emulator answered ``action`` with."""
    with pytest.raises(AlibabaCloudException) as info:
        call(client, action, **fields)
    return info.value


def servers_json(*servers: tuple[str, int, int]) -> str:
    items = [{"ServerId": sid, "Port": port, "Weight": w} for sid, port, w in servers]
    return json.dumps(items)


def make_load_balancer(client: Any, name: str = "lb-test", **fields: Any) -> str:
    body = call(
        client,
        "CreateLoadBalancer",
        region_id="cn-hangzhou",
        load_balancer_name=name,
        **fields,
    )
    return str(body.load_balancer_id)


def make_vserver_group(client: Any, lb_id: str, *servers: tuple[str, int, int]) -> str:
    body = call(
        client,
        "CreateVServerGroup",
        load_balancer_id=lb_id,
        vserver_group_name="web",
        backend_servers=servers_json(*servers) if servers else None,
    )
    return str(body.vserver_group_id)


def make_tcp_listener(client: Any, lb_id: str, port: int = 80, **fields: Any) -> None:
    fields.setdefault("bandwidth", -1)
    grouped = {"vserver_group_id", "master_slave_server_group_id"} & set(fields)
    if not grouped:
        fields.setdefault("backend_server_port", 8080)
    call(
        client,
        "CreateLoadBalancerTCPListener",
        load_balancer_id=lb_id,
        listener_port=port,
        **fields,
    )


def on_listener(client: Any, action: str, lb_id: str, port: int, **fields: Any) -> Any:
    """Start, stop or delete (or any call keyed by load balancer and port)."""
    return call(client, action, load_balancer_id=lb_id, listener_port=port, **fields)


def self_signed_pem(common_name: str = "chat.example.com") -> tuple[str, str]:
    """A certificate and its key (EC P-256, quick to make) as PEM text."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_text = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_text = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return cert_text, key_text


def upload_server_certificate(client: Any) -> str:
    cert_text, key_text = self_signed_pem()
    body = call(
        client,
        "UploadServerCertificate",
        region_id="cn-hangzhou",
        server_certificate=cert_text,
        private_key=key_text,
        server_certificate_name="chat",
    )
    return str(body.server_certificate_id)


def expect_refused(
    call: Callable[[], Any], code: str, status: int = 400
) -> AlibabaCloudException:
    """Run ``call`` and check the SDK raised the cloud's ``code`` and ``status``."""
    with pytest.raises(AlibabaCloudException) as info:
        call()
    assert info.value.code == code, info.value.message
    assert info.value.status_code == status
    return info.value
