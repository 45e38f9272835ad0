"""Load balancers built by hand through the official SDK, as consoles and
scripts build them, for import tests."""

from __future__ import annotations

import json
from pathlib import Path
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
            backend_servers=servers_json(servers),
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


def listener(
    client: Any, protocol: str, lb: str, port: int, group: str | None, **extra: Any
) -> None:
    """A started listener of ``protocol`` on VServer group ``group``; with
    None, ``extra`` says where its traffic goes (``backend_server_port`` for
    the load balancer's default servers, ``master_slave_server_group_id``)."""
    name = protocol.upper()
    request = getattr(m, f"CreateLoadBalancer{name}ListenerRequest")
    create = getattr(client, f"create_load_balancer_{protocol}listener")
    if group is not None:
        extra["vserver_group_id"] = group
    create(
        request(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            bandwidth=-1,
            **extra,
        )
    )
    start(client, lb, port, protocol)


def add_default_servers(client: Any, lb: str, servers: list[tuple[str, int]]) -> None:
    """Servers (id, weight) attached to the load balancer itself, no group."""
    client.add_backend_servers(
        m.AddBackendServersRequest(
            region_id=REGION,
            load_balancer_id=lb,
            backend_servers=json.dumps(
                [{"ServerId": sid, "Weight": weight} for sid, weight in servers]
            ),
        )
    )


def create_master_slave_group(
    client: Any, lb: str, name: str, master: tuple[str, int], slave: tuple[str, int]
) -> str:
    """A master-slave group of two (server id, port)."""
    members = [
        {"ServerId": sid, "Port": port, "Weight": 100, "ServerType": kind}
        for (sid, port), kind in ((master, "Master"), (slave, "Slave"))
    ]
    body = client.create_master_slave_server_group(
        m.CreateMasterSlaveServerGroupRequest(
            region_id=REGION,
            load_balancer_id=lb,
            master_slave_server_group_name=name,
            master_slave_backend_servers=json.dumps(members),
        )
    ).body
    return str(body.master_slave_server_group_id)


def set_tcp_listener(client: Any, lb: str, port: int, **knobs: Any) -> None:
    """A TCP listener's settings changed by hand, as in the console."""
    client.set_load_balancer_tcplistener_attribute(
        m.SetLoadBalancerTCPListenerAttributeRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=port, **knobs
        )
    )


def delete_listener(client: Any, lb: str, port: int, protocol: str) -> None:
    client.delete_load_balancer_listener(
        m.DeleteLoadBalancerListenerRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            listener_protocol=protocol,
        )
    )


def add_servers(client: Any, group: str, servers: list[tuple[str, int, int]]) -> None:
    client.add_vserver_group_backend_servers(
        m.AddVServerGroupBackendServersRequest(
            region_id=REGION,
            vserver_group_id=group,
            backend_servers=servers_json(servers),
        )
    )


def rule(
    client: Any,
    lb: str,
    port: int,
    name: str,
    group: str,
    protocol: str = "http",
    **match: str,
) -> None:
    client.create_rules(
        m.CreateRulesRequest(
            region_id=REGION,
            load_balancer_id=lb,
            listener_port=port,
            listener_protocol=protocol,
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


def servers_json(servers: list[tuple[str, int, int]]) -> str:
    return json.dumps(
        [
            {"ServerId": sid, "Port": port, "Weight": weight, "Type": "ecs"}
            for sid, port, weight in servers
        ]
    )


def upload_certificate(client: Any, directory: Path, name: str) -> str:
    """A server certificate uploaded by hand; its id."""
    from tests.targets.alibaba_slb.certs import write_certificate

    cert = write_certificate(directory, name, f"{name}.example.com")
    body = client.upload_server_certificate(
        m.UploadServerCertificateRequest(
            region_id=REGION,
            server_certificate_name=name,
            server_certificate=Path(cert.certificate_file).read_text(),
            private_key=Path(str(cert.private_key_file)).read_text(),
        )
    ).body
    return str(body.server_certificate_id)
