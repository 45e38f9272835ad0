"""Signatures and request shapes: what the gateway accepts and how it refuses."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException

from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_ID as KEY_ID
from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_SECRET as SECRET
from slbsync.emulator.signature import parse_key_pair
from tests.conftest import make_slb_client
from tests.emulator.raw_wire import acs3_headers, rpc_params, send, send_rpc
from tests.emulator.slb_helpers import call

REGION = "cn-hangzhou"


def test_wrong_secret_is_signature_does_not_match(emulator: Any) -> None:
    for signature in ("v3", "v2"):
        client = make_slb_client(emulator, signature, access_key_secret="wrong")
        with pytest.raises(ClientException) as info:
            call(client, "DescribeRegions")
        assert info.value.code == "SignatureDoesNotMatch"
        assert info.value.status_code == 400
        assert "server string to sign is:" in info.value.message
    assert emulator.calls()["total"] == 0


@pytest.mark.parametrize("signature", ["v3", "v2"])
def test_unknown_access_key_is_not_found(emulator: Any, signature: str) -> None:
    client = make_slb_client(emulator, signature, access_key_id="LTAInobody")
    with pytest.raises(ClientException) as info:
        call(client, "DescribeRegions")
    assert info.value.code == "InvalidAccessKeyId.NotFound"
    assert info.value.status_code == 404
    assert "access key is not found" in info.value.message
    assert emulator.calls()["total"] == 0


def test_reused_nonce_is_refused(emulator: Any) -> None:
    params = rpc_params("DescribeRegions", KEY_ID, SECRET, nonce="fixed-nonce-1")
    status, body = send_rpc(emulator.endpoint, "POST", params)
    assert status == 200
    status, body = send_rpc(emulator.endpoint, "POST", params)
    assert (status, body["Code"]) == (400, "SignatureNonceUsed")
    assert body["Message"] == "Specified signature nonce was used already."


def test_reused_acs3_nonce_is_refused(emulator: Any) -> None:
    query = {"RegionId": REGION}
    path = f"/?{urlencode(query)}"
    for expected in (200, 400):
        headers = acs3_headers(
            emulator.endpoint,
            "DescribeRegions",
            KEY_ID,
            SECRET,
            query,
            nonce="fixed-nonce-3",
        )
        status, body = send(emulator.endpoint, "POST", path, headers=headers)
        assert status == expected, body
    assert body["Code"] == "SignatureNonceUsed"
    assert body["Message"] == "Specified signature nonce was used already."


@pytest.mark.parametrize(
    ("method", "where", "chunked"),
    [
        ("GET", "query", False),
        ("POST", "query", False),
        ("POST", "form", False),
        ("POST", "form", True),
    ],
)
def test_rpc_requests_in_every_shape(
    emulator: Any, method: str, where: str, chunked: bool
) -> None:
    params = rpc_params(
        "CreateLoadBalancer",
        KEY_ID,
        SECRET,
        method=method,
        RegionId=REGION,
        LoadBalancerName="raw",
    )
    status, body = send_rpc(
        emulator.endpoint, method, params, where=where, chunked=chunked
    )
    assert status == 200, body
    assert body["LoadBalancerId"].startswith("lb-")
    assert body["RequestId"]


def test_form_body_tampered_after_signing_is_refused(emulator: Any) -> None:
    params = rpc_params(
        "CreateLoadBalancer", KEY_ID, SECRET, RegionId=REGION, LoadBalancerName="a"
    )
    params["LoadBalancerName"] = "b"
    status, body = send_rpc(emulator.endpoint, "POST", params, where="form")
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert "LoadBalancerName%3Db" in body["Message"]


def test_acs3_signs_only_the_headers_the_client_lists(emulator: Any) -> None:
    query = {"RegionId": REGION}
    headers = acs3_headers(
        emulator.endpoint,
        "DescribeRegions",
        KEY_ID,
        SECRET,
        query,
        extra={"user-agent": "custom/1.0"},
        signed=["host", "x-acs-action", "x-acs-date", "x-acs-signature-nonce"],
    )
    status, body = send(
        emulator.endpoint, "POST", f"/?{urlencode(query)}", headers=headers
    )
    assert status == 200, body

    # A signed header changed on the way is caught.
    headers = acs3_headers(emulator.endpoint, "DescribeRegions", KEY_ID, SECRET, query)
    headers["x-acs-action"] = "DescribeZones"
    status, body = send(
        emulator.endpoint, "POST", f"/?{urlencode(query)}", headers=headers
    )
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")


def test_timestamps_with_fractions_of_a_second(emulator: Any) -> None:
    from tests.emulator.raw_wire import timestamp

    query = {"RegionId": REGION}
    headers = acs3_headers(
        emulator.endpoint,
        "DescribeRegions",
        KEY_ID,
        SECRET,
        query,
        date=timestamp(fraction=True),
    )
    status, body = send(
        emulator.endpoint, "POST", f"/?{urlencode(query)}", headers=headers
    )
    assert status == 200, body


def test_stale_or_malformed_timestamp_is_refused(emulator: Any) -> None:
    query = {"RegionId": REGION}
    for date, why in (
        ("2020-01-01T00:00:00Z", "expired"),
        ("yesterday", "not well formatted"),
    ):
        headers = acs3_headers(
            emulator.endpoint, "DescribeRegions", KEY_ID, SECRET, query, date=date
        )
        status, body = send(
            emulator.endpoint, "POST", f"/?{urlencode(query)}", headers=headers
        )
        assert (status, body["Code"]) == (400, "IllegalTimestamp")
        assert why in body["Message"]


def test_unsigned_request_is_missing_its_signature(emulator: Any) -> None:
    status, body = send(
        emulator.endpoint, "POST", "/?Action=DescribeRegions&Version=2014-05-15"
    )
    assert (status, body["Code"]) == (400, "MissingParameter")
    assert "Signature" in body["Message"]


def test_unknown_action_and_version_get_the_gateway_errors(emulator: Any) -> None:
    params = rpc_params("DescribeUnicorns", KEY_ID, SECRET)
    status, body = send_rpc(emulator.endpoint, "POST", params)
    assert (status, body["Code"]) == (404, "InvalidAction.NotFound")
    assert "DescribeUnicorns" in body["Message"]

    params = rpc_params("DescribeRegions", KEY_ID, SECRET, version="2099-01-01")
    status, body = send_rpc(emulator.endpoint, "POST", params)
    assert (status, body["Code"]) == (400, "InvalidVersion")


def test_error_bodies_carry_every_documented_field(emulator: Any) -> None:
    params = rpc_params(
        "DescribeLoadBalancerAttribute", KEY_ID, SECRET, LoadBalancerId="lb-none"
    )
    status, body = send_rpc(emulator.endpoint, "POST", params)
    assert status == 404
    assert set(body) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert body["HostId"] == "slb.aliyuncs.com"
    assert body["RequestId"] in body["Recommend"]


def test_extra_key_pairs_replace_the_default(tmp_path: Any) -> None:
    from slbsync.emulator.server import EmulatorServer

    key_id, secret = parse_key_pair("LTAIteam:s3cret:with:colons")
    assert secret == "s3cret:with:colons"
    server = EmulatorServer(access_keys={key_id: secret}).start()
    try:
        params = rpc_params("DescribeRegions", key_id, secret)
        assert send_rpc(server.endpoint, "POST", params)[0] == 200
        params = rpc_params("DescribeRegions", KEY_ID, SECRET)
        _, body = send_rpc(server.endpoint, "POST", params)
        assert body["Code"] == "InvalidAccessKeyId.NotFound"
    finally:
        server.stop()
    with pytest.raises(ValueError, match="ID:SECRET"):
        parse_key_pair("no-secret")


def test_xml_answers_are_not_emulated(emulator: Any) -> None:
    params = rpc_params("DescribeRegions", KEY_ID, SECRET, Format="XML")
    status, body = send_rpc(emulator.endpoint, "POST", params)
    assert (status, body["Code"]) == (501, "NotEmulated")
    assert "Format=XML" in body["Message"]


def test_incomplete_authorization_header_is_explained(emulator: Any) -> None:
    headers = {
        "Authorization": "ACS3-HMAC-SHA256 Credential=" + KEY_ID,
        "x-acs-action": "DescribeRegions",
        "x-acs-version": "2014-05-15",
    }
    status, body = send(emulator.endpoint, "POST", "/", headers=headers)
    assert (status, body["Code"]) == (400, "IncompleteSignature")
    assert "SignedHeaders" in body["Message"]


def test_body_that_does_not_match_its_hash_is_refused(emulator: Any) -> None:
    query = {"RegionId": REGION}
    headers = acs3_headers(emulator.endpoint, "DescribeRegions", KEY_ID, SECRET, query)
    status, body = send(
        emulator.endpoint,
        "POST",
        f"/?{urlencode(query)}",
        body=b"Extra=1",
        headers=headers,
    )
    assert (status, body["Code"]) == (400, "SignatureDoesNotMatch")
    assert "x-acs-content-sha256" in body["Message"]


def test_body_that_is_not_utf8_is_a_client_error(emulator: Any) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = send(
        emulator.endpoint,
        "POST",
        "/?Action=DescribeRegions&Version=2014-05-15",
        body=b"Name=\xff\xfe",
        headers=headers,
    )
    assert status == 400
    assert body["Code"] == "MissingParameter"
