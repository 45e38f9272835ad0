"""Load balancers built by hand through the official SDK, as consoles and
scripts build them, for import tests."""

from __future__ import annotations

import json
from typing import Any

from alibabacloud_slb20140515 import models as m

from tests.conftest import REGION


def create_lb(client: Any, name: str, **extra: Any) -> str:
    body = client.create_load_balancer(
        m.CreateLoadBalancerRequest(region_id=REGION, load_balancer_name=name, **extra)
    ).body
    return str(body.load_balancer_id)


def create_group(
    client: Any, lb: str, name: str, servers: list[tuple[str, int, int]]
) -> str:
    body = client.create_vserver_group(
        m.CreateVServerGroupRequest(
            region_id=REGION,
            load_balancer_id=lb,
            vserver_group_name=name,
            backend_servers=json.dumps(
                [
                    {"ServerId": sid, "Port": port, "Weight": weight, "Type": "ecs"}
                    for sid, port, weight in servers
                ]
            ),
        )
    ).body
    return str(body.vserver_group_id)


def create_acl(client: Any, name: str, entries: list[tuple[str, str]]) -> str:
    acl = str(
        client.create_access_control_list(
            m.CreateAccessControlListRequest(region_id=REGION, acl_name=name)
        ).body.acl_id
    )
    if entries:
        client.add_access_control_list_entry(
            m.AddAccessControlListEntryRequest(
                region_id=REGION,
                acl_id=acl,
                acl_entrys=json.dumps(
                    [{"entry": cidr, "comment": note} for cidr, note in entries]
                ),
            )
        )
    return acl


def start(client: Any, lb: str, port: int, protocol: str) -> None:
    client.start_load_balancer_listener(
        m.StartLoadBalancerListenerRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            listener_protocol=protocol,
        )
    )


def tcp_listener(client: Any, lb: str, port: int, group: str, **extra: Any) -> None:
    client.create_load_balancer_tcplistener(
        m.CreateLoadBalancerTCPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            bandwidth=-1,
            vserver_group_id=group,
            **extra,
        )
    )
    start(client, lb, port, "tcp")


def udp_listener(client: Any, lb: str, port: int, group: str, **extra: Any) -> None:
    client.create_load_balancer_udplistener(
        m.CreateLoadBalancerUDPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            bandwidth=-1,
            vserver_group_id=group,
            **extra,
        )
    )
    start(client, lb, port, "udp")


def http_listener(client: Any, lb: str, port: int, group: str, **extra: Any) -> None:
    client.create_load_balancer_httplistener(
        m.CreateLoadBalancerHTTPListenerRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            bandwidth=-1,
            vserver_group_id=group,
            **extra,
        )
    )
    start(client, lb, port, "http")


def rule(client: Any, lb: str, port: int, name: str, group: str, **match: str) -> None:
    client.create_rules(
        m.CreateRulesRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            listener_protocol="http",
            rule_list=json.dumps(
                [
                    {
                        "RuleName": name,
                        "VServerGroupId": group,
                        **{k.capitalize(): v for k, v in match.items()},
                    }
                ]
            ),
        )
    )
