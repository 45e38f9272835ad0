"""HTTP details: keep-alive, one-send answers, bad requests, headers."""

from __future__ import annotations

import http.client
import socket
from typing import Any
from urllib.parse import urlencode

from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_ID as KEY_ID
from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_SECRET as SECRET
from tests.emulator.raw_wire import rpc_params


def _connection(emulator: Any) -> http.client.HTTPConnection:
    host, port = emulator.endpoint.split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def test_keep_alive_serves_many_calls_on_one_connection(emulator: Any) -> None:
    connection = _connection(emulator)
    try:
        for _ in range(3):
            params = rpc_params("DescribeRegions", KEY_ID, SECRET)
            connection.request("POST", f"/?{urlencode(params)}")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Content-Type").startswith("application/json")
            assert response.getheader("x-acs-request-id")
        assert emulator.calls()["total"] == 3
    finally:
        connection.close()


def test_answer_arrives_in_one_piece(emulator: Any) -> None:
    # Headers and body in one send: a single recv after the request gets both.
    params = rpc_params("DescribeZones", KEY_ID, SECRET, RegionId="cn-hangzhou")
    host, port = emulator.endpoint.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        request = (
            f"POST /?{urlencode(params)} HTTP/1.1\r\nHost: {emulator.endpoint}\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        sock.sendall(request.encode())
        data = sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    assert len(body) == length
    assert sock is not None


def test_connection_close_is_honoured(emulator: Any) -> None:
    connection = _connection(emulator)
    try:
        params = rpc_params("DescribeRegions", KEY_ID, SECRET, method="GET")
        connection.request(
            "GET", f"/?{urlencode(params)}", headers={"Connection": "close"}
        )
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.getheader("Connection") == "close"
    finally:
        connection.close()


def test_malformed_content_length_is_a_bad_request(emulator: Any) -> None:
    host, port = emulator.endpoint.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: lots\r\n\r\n")
        data = sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 400")
    assert b"Content-Length" in data


def test_api_answers_only_get_and_post(emulator: Any) -> None:
    connection = _connection(emulator)
    try:
        connection.request("PUT", "/?Action=DescribeRegions")
        response = connection.getresponse()
        body = response.read()
        assert response.status == 403
        assert b"UnsupportedHTTPMethod" in body
    finally:
        connection.close()
