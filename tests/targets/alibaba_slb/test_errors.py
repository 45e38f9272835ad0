"""Failures: translated messages, retry classification, unknown outcomes, secrets."""

from __future__ import annotations

import logging
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from alibabacloud_slb20140515.client import Client

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    ResourceAddress,
    ResourceKind,
    payload_of,
)
from slbsync.errors import CloudApiError
from slbsync.spec.model import LoadBalancer, Server, ServerGroup, TargetSpec
from slbsync.targets.alibaba_slb.errors import SlbApiError
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import EmulatorHandle
from tests.targets.alibaba_slb.certs import write_certificate
from tests.targets.alibaba_slb.conftest import apply_all, plan, spec_of, target_spec


def chat() -> LoadBalancer:
    return LoadBalancer(
        name="chat",
        target="cloud",
        server_groups=(
            ServerGroup(
                name="ws", servers=tuple(Server(port=80, id=f"i-{n}") for n in range(3))
            ),
        ),
    )


def delete_group(group_id: str) -> Change:
    return Change(
        op=ChangeOp.DELETE,
        address=ResourceAddress("cloud", "chat", ResourceKind.SERVER_GROUP, "ws"),
        action="DeleteVServerGroup",
        payload=payload_of(params={"VServerGroupId": group_id}, lb="chat", group="ws"),
    )


def test_cloud_error_names_action_code_request_id_and_what_to_do(
    target: AlibabaSlbTarget,
) -> None:
    with pytest.raises(CloudApiError) as caught:
        target.apply_change(delete_group("rsp-missing"))

    error = caught.value
    message = str(error)
    assert message.startswith(
        "target cloud: DeleteVServerGroup failed with InvalidParameter (request id "
    )
    assert error.request_id and error.request_id in message
    assert "The specified VServerGroupId does not exist." in message
    assert "run slbsync plan again" in message
    assert not target.is_transient(error)
    assert not target.is_outcome_unknown(error)
    assert isinstance(error.__cause__, Exception)  # the SDK error stays chained


def test_throttling_is_transient_and_slows_the_rate_limiter(
    target: AlibabaSlbTarget, emulator: EmulatorHandle
) -> None:
    emulator.set_faults(throttle_rate=1.0)
    rate = target.rate_limiter.rate

    with pytest.raises(SlbApiError) as caught:
        target.read_live_state(spec_of(chat()))

    assert caught.value.code == "Throttling.User"
    assert target.is_transient(caught.value)
    assert target.is_throttling(caught.value)
    assert target.rate_limiter.rate < rate


def test_server_errors_are_transient(
    target: AlibabaSlbTarget, emulator: EmulatorHandle
) -> None:
    emulator.set_faults(error_rate=1.0)

    with pytest.raises(SlbApiError) as caught:
        target.read_live_state(spec_of(chat()))

    assert caught.value.status in (500, 503)
    assert target.is_transient(caught.value)
    assert not target.is_throttling(caught.value)


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        ("ServiceIsConfiguring", 400, True),
        ("OperationFailed.ListenerStatusNotSupport", 400, True),
        ("VServerGroupProcessing", 400, True),
        ("SystemBusy", 449, True),
        ("BackendServer.configuring", 409, True),
        # Every other busy code of reference section 5.2; the HTTP status of
        # some is undocumented, so a 400 must not stop the retry.
        ("ServiceIsStopping", 409, True),
        ("OperationBusy", 400, True),
        ("ProcessingSameRequest", 400, True),
        ("OperationFailed.TokenIsProcessing", 400, True),
        ("AclEntryProcessing", 400, True),
        ("DomainExtensionProcessing", 400, True),
        ("LastTokenProcessing", 403, True),
        ("Throttling.Api", 400, True),
        ("InternalError", 500, True),
        ("InvalidParameter", 400, False),
        ("RspoolVipExist", 400, False),
        # What the emulator does not emulate will never succeed on a retry.
        ("NotEmulated", 501, False),
    ],
)
def test_documented_busy_codes_are_transient(
    code: str, status: int, transient: bool
) -> None:
    from slbsync.targets.alibaba_slb.errors import is_transient_code

    assert is_transient_code(code, status) is transient


def test_refused_connection_is_transient_and_not_in_doubt(
    cloud_credentials: EmulatorHandle,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once closed
    spec = TargetSpec(
        name="cloud",
        type="alibaba-slb",
        region="cn-hangzhou",
        endpoint=f"http://127.0.0.1:{port}",
        options=(("connect_timeout_ms", 500), ("read_retry_seconds", 1)),
    )
    target = AlibabaSlbTarget(spec)

    with pytest.raises(SlbApiError) as caught:
        target.read_live_state(spec_of(chat()))

    assert caught.value.code == "ConnectionFailed"
    assert target.is_transient(caught.value)
    assert not target.is_outcome_unknown(caught.value)


def test_lost_create_is_settled_by_reading_and_not_repeated(
    target: AlibabaSlbTarget, emulator: EmulatorHandle, slb_client: Client
) -> None:
    _, changes = plan(target, spec_of(chat()))
    create, group = changes
    emulator.set_faults(lost_response_rate=1.0)

    with pytest.raises(SlbApiError) as caught:
        target.apply_change(create)

    assert target.is_outcome_unknown(caught.value)
    assert not target.is_transient(caught.value)
    emulator.set_faults()
    assert target.has_taken_effect(create)
    # The id the lost answer carried was found by reading; the group resolves it.
    target.apply_change(group)
    live, again = plan(target, spec_of(chat()))
    assert again == []
    assert len(live.load_balancers) == 1


def test_lost_server_add_is_settled_by_reading(
    target: AlibabaSlbTarget, emulator: EmulatorHandle
) -> None:
    apply_all(target, plan(target, spec_of(chat()))[1])
    bigger = chat()
    group = bigger.server_groups[0]
    more = (*group.servers, Server(port=80, id="i-new"))
    spec = spec_of(
        LoadBalancer(
            name="chat",
            target="cloud",
            server_groups=(ServerGroup(name="ws", servers=more),),
        )
    )
    (add,) = plan(target, spec)[1]
    assert not target.has_taken_effect(add)
    emulator.set_faults(lost_response_rate=1.0)

    with pytest.raises(SlbApiError) as caught:
        target.apply_change(add)

    emulator.set_faults()
    assert target.is_outcome_unknown(caught.value)
    assert target.has_taken_effect(add)
    assert plan(target, spec)[1] == []


def test_timed_out_call_is_in_doubt(
    target: AlibabaSlbTarget, cloud_credentials: EmulatorHandle
) -> None:
    hasty = AlibabaSlbTarget(target_spec(cloud_credentials, read_timeout_ms=300))
    _, changes = plan(target, spec_of(chat()))
    cloud_credentials.set_faults(timeout_rate=1.0, timeout_ms=1000)

    with pytest.raises(SlbApiError) as caught:
        hasty.apply_change(changes[0])

    cloud_credentials.set_faults()
    assert hasty.is_outcome_unknown(caught.value)
    assert "slbsync reads the live state" in str(caught.value)
    assert not target.has_taken_effect(changes[0])  # held and dropped unapplied


def test_same_create_twice_makes_one_load_balancer(
    cloud_credentials: EmulatorHandle,
) -> None:
    first = AlibabaSlbTarget(target_spec(cloud_credentials))
    _, changes = plan(first, spec_of(chat()))
    created = first.apply_change(changes[0]).created_id

    # Another process, same plan: the client token makes the cloud answer
    # with the load balancer it already made.
    second = AlibabaSlbTarget(target_spec(cloud_credentials))
    again = second.apply_change(changes[0]).created_id

    assert again == created
    live = second.read_live_state(spec_of(chat()))
    assert [lb.id for lb in live.load_balancers] == [created]


def test_no_secret_in_debug_logs_or_messages(
    target: AlibabaSlbTarget,
    emulator: EmulatorHandle,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cert = write_certificate(tmp_path, "web", "chat.example.com")
    key_text = Path(str(cert.private_key_file)).read_text()
    caplog.set_level(logging.DEBUG)

    apply_all(target, plan(target, spec_of(chat(), certificates=(cert,)))[1])
    with pytest.raises(CloudApiError) as caught:
        target.apply_change(delete_group("rsp-missing"))

    text = caplog.text + str(caught.value)
    assert "UploadServerCertificate" in caplog.text  # the call was logged...
    assert "PrivateKey': '***'" in caplog.text  # ...with its key redacted
    assert emulator.access_key_secret not in text
    key_body = key_text.splitlines()[1]
    assert key_body not in text
    assert "Signature=" not in text and "Authorization" not in text


def test_transport_error_on_an_upload_does_not_quote_the_key(
    cloud_credentials: EmulatorHandle, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    spec = replace(target_spec(cloud_credentials), endpoint=f"http://127.0.0.1:{port}")
    target = AlibabaSlbTarget(spec)
    cert = write_certificate(tmp_path, "web", "chat.example.com")
    key_line = Path(str(cert.private_key_file)).read_text().splitlines()[1]
    upload = Change(
        op=ChangeOp.CREATE,
        address=ResourceAddress("cloud", "", ResourceKind.CERTIFICATE, "web"),
        action="UploadServerCertificate",
        payload=payload_of(
            params={"ServerCertificateName": "web-1"},
            certificate_file=cert.certificate_file,
            private_key_file=cert.private_key_file,
            upload_name="web-1",
            kind="server",
        ),
    )

    with pytest.raises(SlbApiError) as caught:
        target.apply_change(upload)

    message = str(caught.value)
    assert "UploadServerCertificate failed with ConnectionFailed" in message
    assert key_line not in message
    assert "PrivateKey" not in message  # the request line is left out
    assert "Connection refused" in message
