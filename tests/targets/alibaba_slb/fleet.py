"""A fleet built with the SDK directly, and the spec that describes it."""

from __future__ import annotations

import json
from typing import Any

from alibabacloud_slb20140515 import models
from alibabacloud_slb20140515.client import Client

from slbsync.spec.model import Listener, LoadBalancer, Protocol, Server, ServerGroup
from slbsync.targets.base import DEFAULT_OWNER, OWNER_TAG
from tests.conftest import REGION
from tests.targets.alibaba_slb.conftest import TARGET


def build_fleet(
    client: Client, count: int, listeners: int = 4, groups: int = 4, servers: int = 10
) -> list[LoadBalancer]:
    """Create ``count`` owned load balancers by hand; return their spec."""
    return [
        _build_one(client, f"chat-{n:03d}", listeners, groups, servers)
        for n in range(count)
    ]


def _build_one(
    client: Client, name: str, listeners: int, groups: int, servers: int
) -> LoadBalancer:
    lb_id = client.create_load_balancer(
        models.CreateLoadBalancerRequest(
            region_id=REGION,
            load_balancer_name=name,
            instance_charge_type="PayByCLCU",
            tag=[
                models.CreateLoadBalancerRequestTag(key=OWNER_TAG, value=DEFAULT_OWNER),
                models.CreateLoadBalancerRequestTag(key="app", value="chat"),
            ],
        )
    ).body.load_balancer_id
    spec_groups = []
    spec_listeners = []
    for g in range(groups):
        members = [
            Server(port=8000 + g, id=f"i-{name}-{s:02d}", weight=50 + s)
            for s in range(servers)
        ]
        group_id = client.create_vserver_group(
            models.CreateVServerGroupRequest(
                region_id=REGION,
                load_balancer_id=lb_id,
                vserver_group_name=f"g{g}",
                backend_servers=json.dumps([_item(m) for m in members]),
            )
        ).body.vserver_group_id
        spec_groups.append(ServerGroup(name=f"g{g}", servers=tuple(members)))
        if g < listeners:
            port = 9000 + g
            client.create_load_balancer_tcplistener(
                models.CreateLoadBalancerTCPListenerRequest(
                    region_id=REGION,
                    load_balancer_id=lb_id,
                    listener_port=port,
                    bandwidth=-1,
                    vserver_group_id=group_id,
                    scheduler="wlc",
                    connection_drain="on",
                    connection_drain_timeout=300,
                )
            )
            client.start_load_balancer_listener(
                models.StartLoadBalancerListenerRequest(
                    region_id=REGION, load_balancer_id=lb_id, listener_port=port
                )
            )
            spec_listeners.append(
                Listener(
                    protocol=Protocol.TCP,
                    port=port,
                    server_group=f"g{g}",
                    scheduler="least_connections",
                    connection_drain=300,
                )
            )
    return LoadBalancer(
        name=name,
        target=TARGET,
        tags=(("app", "chat"),),
        server_groups=tuple(spec_groups),
        listeners=tuple(spec_listeners),
    )


def _item(server: Server) -> dict[str, Any]:
    return {"ServerId": server.id, "Port": server.port, "Weight": server.weight}
