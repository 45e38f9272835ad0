"""ACLs, certificates, domain extensions and rules survive an emulator restart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from slbsync.emulator.server import EmulatorServer
from tests.conftest import EmulatorHandle, make_slb_client

REGION = "cn-hangzhou"


def _certificate_and_key() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chat.example.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return certificate.public_bytes(
        serialization.Encoding.PEM
    ).decode(), key_pem.decode()


def _populate(slb: Client) -> dict[str, str]:
    acl_id = slb.create_access_control_list(
        models.CreateAccessControlListRequest(region_id=REGION, acl_name="office")
    ).body.acl_id
    slb.add_access_control_list_entry(
        models.AddAccessControlListEntryRequest(
            region_id=REGION,
            acl_id=acl_id,
            acl_entrys=json.dumps([{"entry": "10.0.0.0/8", "comment": "lan"}]),
        )
    )
    certificate, key = _certificate_and_key()
    cert_id = slb.upload_server_certificate(
        models.UploadServerCertificateRequest(
            region_id=REGION, server_certificate=certificate, private_key=key
        )
    ).body.server_certificate_id
    lb_id = slb.create_load_balancer(
        models.CreateLoadBalancerRequest(region_id=REGION, load_balancer_name="web")
    ).body.load_balancer_id
    group_id = slb.create_vserver_group(
        models.CreateVServerGroupRequest(
            region_id=REGION, load_balancer_id=lb_id, vserver_group_name="api"
        )
    ).body.vserver_group_id
    slb.create_load_balancer_httpslistener(
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
    extension_id = slb.create_domain_extension(
        models.CreateDomainExtensionRequest(
            region_id=REGION,
            load_balancer_id=lb_id,
            listener_port=443,
            domain="api.example.com",
            server_certificate_id=cert_id,
        )
    ).body.domain_extension_id
    rule_id = (
        slb.create_rules(
            models.CreateRulesRequest(
                region_id=REGION,
                load_balancer_id=lb_id,
                listener_port=443,
                rule_list=json.dumps(
                    [{"RuleName": "api", "Url": "/api", "VServerGroupId": group_id}]
                ),
            )
        )
        .body.rules.rule[0]
        .rule_id
    )
    slb.set_rule(
        models.SetRuleRequest(
            region_id=REGION, rule_id=rule_id, listener_sync="off", scheduler="rr"
        )
    )
    return {"acl": acl_id, "cert": cert_id, "extension": extension_id, "rule": rule_id}


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = EmulatorServer(state_path=state, region=REGION).start()
    try:
        ids = _populate(make_slb_client(EmulatorHandle(first)))
    finally:
        first.stop()

    second = EmulatorServer(state_path=state, region=REGION).start()
    try:
        client = make_slb_client(EmulatorHandle(second))
        acl = client.describe_access_control_list_attribute(
            models.DescribeAccessControlListAttributeRequest(
                region_id=REGION, acl_id=ids["acl"]
            )
        ).body
        certs = client.describe_server_certificates(
            models.DescribeServerCertificatesRequest(region_id=REGION)
        ).body.server_certificates.server_certificate
        extension = client.describe_domain_extension_attribute(
            models.DescribeDomainExtensionAttributeRequest(
                region_id=REGION, domain_extension_id=ids["extension"]
            )
        ).body
        rule = client.describe_rule_attribute(
            models.DescribeRuleAttributeRequest(region_id=REGION, rule_id=ids["rule"])
        ).body
    finally:
        second.stop()

    assert [
        (e.acl_entry_ip, e.acl_entry_comment) for e in acl.acl_entrys.acl_entry
    ] == [("10.0.0.0/8", "lan")]
    assert [(c.server_certificate_id, c.common_name) for c in certs] == [
        (ids["cert"], "chat.example.com")
    ]
    assert extension.domain == "api.example.com"
    assert (rule.rule_name, rule.listener_sync, rule.scheduler) == ("api", "off", "rr")
    assert "PRIVATE KEY" not in state.read_text()
