"""A certificate rotated while an owned load balancer the spec no longer
names stays (no --prune): its old upload is deleted once nothing uses it."""

from __future__ import annotations

from pathlib import Path

from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client

from slbsync.spec.model import (
    Certificate,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Server,
    ServerGroup,
)
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import REGION
from tests.importer.handmade import create_group, create_lb, listener
from tests.targets.alibaba_slb.certs import write_certificate
from tests.targets.alibaba_slb.conftest import apply_all, converge, plan, spec_of

GROUP = ServerGroup(name="ws", servers=(Server(port=8080, id="i-node000"),))
HTTPS = Listener(
    protocol=Protocol.HTTPS,
    port=443,
    server_group="ws",
    certificate="web",
    health_check=HealthCheck(type="http", path="/health"),
)
TCP = Listener(protocol=Protocol.TCP, port=9000, server_group="ws")


def web(name: str, *listeners: Listener) -> LoadBalancer:
    return LoadBalancer(
        name=name, target="cloud", server_groups=(GROUP,), listeners=listeners
    )


def uploads(client: Client) -> dict[str, str]:
    """Fingerprint by upload id, as the cloud lists them."""
    request = models.DescribeServerCertificatesRequest(region_id=REGION)
    body = client.describe_server_certificates(request).body
    items = body.server_certificates.server_certificate or []
    return {c.server_certificate_id: c.fingerprint.lower() for c in items}


def rotate_with_old_chat(
    target: AlibabaSlbTarget, tmp_path: Path, *old_chat_listeners: Listener
) -> tuple[Certificate, str]:
    """chat-web and old-chat applied with certificate web, then the spec
    drops old-chat and rotates web; returns the new certificate and the
    first upload's id."""
    first = write_certificate(tmp_path, "web", "chat.example.com")
    lbs = (web("chat-web", HTTPS), web("old-chat", *old_chat_listeners))
    converge(target, spec_of(*lbs, certificates=(first,)))
    live, _ = plan(target, spec_of(*lbs, certificates=(first,)))
    second = write_certificate(tmp_path, "web", "chat2.example.com")
    return second, live.certificates[0].id


def test_old_upload_an_unnamed_load_balancer_uses_stays_and_plan_says_why(
    target: AlibabaSlbTarget, slb_client: Client, tmp_path: Path
) -> None:
    second, first_id = rotate_with_old_chat(target, tmp_path, HTTPS)
    spec = spec_of(web("chat-web", HTTPS), certificates=(second,))

    _, changes = plan(target, spec)

    assert [c.action for c in changes] == [
        "UploadServerCertificate",
        "SetLoadBalancerHTTPSListenerAttribute",
    ]
    assert (
        f"the previous upload {first_id} stays: old-chat https/443 uses it"
        in changes[0].note
    )
    apply_all(target, changes)
    live, again = plan(target, spec)
    assert again == []
    assert first_id in uploads(slb_client)  # old-chat still serves with it
    assert live.certificates[0].old_uploads == (
        (first_id, uploads(slb_client)[first_id]),
    )
    # chat-web and old-chat share one bulk listener call.
    assert dict(live.reads)["DescribeLoadBalancerListeners"] == 1


def test_old_upload_nothing_uses_is_deleted_in_the_same_plan(
    target: AlibabaSlbTarget, slb_client: Client, tmp_path: Path
) -> None:
    second, first_id = rotate_with_old_chat(target, tmp_path, TCP)
    spec = spec_of(web("chat-web", HTTPS), certificates=(second,))

    _, changes = plan(target, spec)

    assert [c.action for c in changes] == [
        "UploadServerCertificate",
        "SetLoadBalancerHTTPSListenerAttribute",
        "DeleteServerCertificate",
    ]
    assert changes[2].live_id == first_id
    apply_all(target, changes)
    live, again = plan(target, spec)
    assert again == []
    assert list(uploads(slb_client).values()) == [second.fingerprint.lower()]
    assert live.load_balancer("old-chat") is not None  # not pruned


def test_kept_old_upload_is_deleted_by_the_plan_after_its_last_user_goes(
    target: AlibabaSlbTarget, slb_client: Client, tmp_path: Path
) -> None:
    second, first_id = rotate_with_old_chat(target, tmp_path, HTTPS)
    spec = spec_of(web("chat-web", HTTPS), certificates=(second,))
    live, changes = plan(target, spec)
    apply_all(target, changes)

    # Someone retires old-chat's HTTPS listener by hand.
    old_chat = live.load_balancer("old-chat")
    assert old_chat is not None and old_chat.id is not None
    slb_client.delete_load_balancer_listener(
        models.DeleteLoadBalancerListenerRequest(
            region_id=REGION,
            load_balancer_id=old_chat.id,
            listener_port=443,
            listener_protocol="https",
        )
    )
    _, changes = plan(target, spec)

    assert [(c.action, c.live_id) for c in changes] == [
        ("DeleteServerCertificate", first_id)
    ]
    apply_all(target, changes)
    _, again = plan(target, spec)
    assert again == []
    assert list(uploads(slb_client).values()) == [second.fingerprint.lower()]


def test_old_upload_an_unowned_listener_uses_is_kept_and_tagged(
    target: AlibabaSlbTarget, slb_client: Client, tmp_path: Path
) -> None:
    # A load balancer built by hand in the console reuses slbsync's upload.
    # slbsync never reads its listeners, so the rotation plans the old
    # upload's delete; SLB refuses it, and the apply keeps the upload
    # (tagged) instead of failing, now and on every later run.
    first = write_certificate(tmp_path, "web", "chat.example.com")
    converge(target, spec_of(web("chat-web", HTTPS), certificates=(first,)))
    live, _ = plan(target, spec_of(web("chat-web", HTTPS), certificates=(first,)))
    first_id = live.certificates[0].id
    handmade = create_lb(slb_client, "console-web")
    group = create_group(slb_client, handmade, "ws", [("i-node000", 8080, 100)])
    listener(
        slb_client,
        "https",
        handmade,
        443,
        group,
        server_certificate_id=first_id,
        health_check="off",
        sticky_session="off",
    )
    second = write_certificate(tmp_path, "web", "chat2.example.com")
    spec = spec_of(web("chat-web", HTTPS), certificates=(second,))

    _, changes = plan(target, spec)
    assert [c.action for c in changes][-1] == "DeleteServerCertificate"
    outcomes = [target.apply_change(change) for change in changes]

    assert f"kept {first_id}" in outcomes[-1].note
    assert first_id in uploads(slb_client)  # console-web still serves with it
    _, again = plan(target, spec)
    assert again == []
