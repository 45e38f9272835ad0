"""Groups and listener settings survive a restart with --state."""

from __future__ import annotations

import json
from pathlib import Path

from slbsync.emulator.server import EmulatorServer
from slbsync.emulator.signature import DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCESS_KEY_SECRET
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_tcp_listener,
    make_vserver_group,
)


class _Where:
    """Enough of the emulator fixture for make_slb_client."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.access_key_id = DEFAULT_ACCESS_KEY_ID
        self.access_key_secret = DEFAULT_ACCESS_KEY_SECRET


def test_groups_and_listeners_survive_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = EmulatorServer(state_path=state).start()
    try:
        client = make_slb_client(_Where(first.endpoint))  # type: ignore[arg-type]
        lb = make_load_balancer(client)
        group = make_vserver_group(client, lb, ("i-a", 8080, 60))
        pair = [
            {"ServerId": "i-m", "Port": 80, "ServerType": "Master"},
            {"ServerId": "i-s", "Port": 80, "ServerType": "Slave"},
        ]
        ms = call(
            client,
            "CreateMasterSlaveServerGroup",
            load_balancer_id=lb,
            master_slave_backend_servers=json.dumps(pair),
        ).master_slave_server_group_id
        make_tcp_listener(client, lb, 443, vserver_group_id=group, scheduler="wlc")
        call(
            client, "StartLoadBalancerListener", load_balancer_id=lb, listener_port=443
        )
    finally:
        first.stop()

    again = EmulatorServer(state_path=state).start()
    try:
        client = make_slb_client(_Where(again.endpoint))  # type: ignore[arg-type]
        attribute = call(
            client,
            "DescribeLoadBalancerTCPListenerAttribute",
            load_balancer_id=lb,
            listener_port=443,
        )
        members = call(client, "DescribeVServerGroupAttribute", vserver_group_id=group)
        pair_body = call(
            client,
            "DescribeMasterSlaveServerGroupAttribute",
            master_slave_server_group_id=ms,
        )
    finally:
        again.stop()

    assert (attribute.status, attribute.scheduler) == ("running", "wlc")
    assert attribute.vserver_group_id == group
    server = members.backend_servers.backend_server[0]
    assert (server.server_id, server.port, server.weight) == ("i-a", 8080, 60)
    kinds = pair_body.master_slave_backend_servers.master_slave_backend_server
    assert [m.server_type for m in kinds] == ["Master", "Slave"]
