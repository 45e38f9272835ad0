"""Model values survive the trip to plain JSON and back (saved plans)."""

from __future__ import annotations

import json

from slbsync.spec.model import (
    AclBinding,
    ForwardingRule,
    HealthCheck,
    Listener,
    Location,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
    StickySession,
)
from slbsync.spec.plain import from_plain, to_plain


def test_listener_round_trips_through_json_without_its_location() -> None:
    listener = Listener(
        protocol=Protocol.HTTPS,
        port=443,
        server_group="api",
        health_check=HealthCheck(
            type="http", path="/healthz", http_codes=("http_2xx",)
        ),
        acl=AclBinding("office"),
        sticky_session=StickySession(type="server", cookie="sid"),
        rules=(ForwardingRule("static", "assets", url="/static"),),
        location=Location("chat.yaml", 12, 7),
    )

    plain = json.loads(json.dumps(to_plain(listener)))
    rebuilt = from_plain(Listener, plain)

    assert "location" not in plain
    assert plain["protocol"] == "https"
    assert rebuilt == listener
    assert rebuilt.protocol is Protocol.HTTPS
    assert rebuilt.rules[0].url == "/static"


def test_group_with_servers_round_trips_with_enums() -> None:
    group = ServerGroup(
        "ws",
        servers=(Server(8080, address="10.0.0.11", weight=50, type=ServerType.IP),),
        tags=(("app", "chat"),),
    )

    rebuilt = from_plain(ServerGroup, json.loads(json.dumps(to_plain(group))))

    assert rebuilt == group
    assert rebuilt.servers[0].type is ServerType.IP
    assert rebuilt.tags == (("app", "chat"),)
