"""What register and deregister read of one group beyond a plan's read.

- health as SLB reports it (``DescribeHealthStatus``), per server: for
  ``register --wait-healthy`` and the capacity guard of ``deregister``;
- the members alone (``DescribeVServerGroupAttribute``), to read a group
  again under the lock after a full read outside it.

The raw responses stay here; what leaves is the spec model.
"""

from __future__ import annotations

from slbsync.spec.model import Server
from slbsync.targets.alibaba_slb.client import SlbClient
from slbsync.targets.alibaba_slb.read import server_from

HEALTHY = "normal"


def health_by_server(
    client: SlbClient, lb_id: str
) -> dict[tuple[str, int], bool | None]:
    """Each backend's health over every listener: True when all say ``normal``,
    False when one says ``abnormal``, None when none checks it (``unavailable``)."""
    body = client.call("DescribeHealthStatus", {"LoadBalancerId": lb_id})
    verdicts: dict[tuple[str, int], bool | None] = {}
    for item in (body.get("BackendServers") or {}).get("BackendServer") or []:
        key = (str(item.get("ServerId") or ""), int(item.get("Port") or 0))
        status = str(item.get("ServerHealthStatus") or "")
        if status == "abnormal":
            verdicts[key] = False
        elif status == HEALTHY and verdicts.get(key) is not False:
            verdicts[key] = True
        else:
            verdicts.setdefault(key, None)
    return verdicts


def is_healthy(client: SlbClient, lb_id: str, server: Server) -> bool | None:
    return health_by_server(client, lb_id).get(server.key)


def group_members(client: SlbClient, group_id: str) -> tuple[Server, ...]:
    """The members of one VServer group, as a plan's read reports them."""
    body = client.call("DescribeVServerGroupAttribute", {"VServerGroupId": group_id})
    items = (body.get("BackendServers") or {}).get("BackendServer") or []
    return tuple(server_from(item) for item in items)
