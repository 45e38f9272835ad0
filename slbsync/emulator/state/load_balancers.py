"""Load balancer instances, and the hooks that remove their children with them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slbsync.emulator.errors import ApiError, LoadBalancerNotFound, MissingParameter
from slbsync.emulator.state.store import Store

TABLE = "load_balancers"


@dataclass
class LoadBalancerRecord:
    load_balancer_id: str
    name: str
    region_id: str
    address: str
    address_type: str = "internet"
    address_ip_version: str = "ipv4"
    network_type: str = "classic"
    vpc_id: str = ""
    vswitch_id: str = ""
    status: str = "active"
    spec: str = "slb.s1.small"
    instance_charge_type: str = "PayBySpec"
    internet_charge_type: str = "paybytraffic"
    bandwidth: int = 5120
    pay_type: str = "PayOnDemand"
    delete_protection: str = "off"
    modification_protection_status: str = "NonProtection"
    modification_protection_reason: str = ""
    resource_group_id: str = ""
    master_zone_id: str = ""
    slave_zone_id: str = ""
    create_time: float = 0.0
    # The default server group: ServerId, Weight (int), Type, ServerIp, Description.
    backend_servers: list[dict[str, Any]] = field(default_factory=list)
    # CreateLoadBalancer idempotency: the token and a fingerprint of the
    # parameters it was first used with.
    client_token: str = ""
    client_token_fingerprint: str = ""


def load_balancers(store: Store) -> dict[str, LoadBalancerRecord]:
    return store.table(TABLE, LoadBalancerRecord)


def get_load_balancer(
    store: Store, lb_id: str | None, *, for_write: bool = False
) -> LoadBalancerRecord:
    """The load balancer ``lb_id``, refused the way the cloud refuses it."""
    if not lb_id:
        raise MissingParameter("LoadBalancerId")
    record = load_balancers(store).get(lb_id)
    if record is None:
        raise LoadBalancerNotFound()
    if for_write and record.status == "locked":
        raise ApiError("ActionNotAllowed", "Locked for any Business Reason.", 400)
    return record


_CLEANUPS: list[Callable[[Store, str], None]] = []


def register_cleanup(fn: Callable[[Store, str], None]) -> Callable[[Store, str], None]:
    """Run ``fn(store, lb_id)`` inside DeleteLoadBalancer (listeners, groups...)."""
    if fn not in _CLEANUPS:
        _CLEANUPS.append(fn)
    return fn


def delete_load_balancer(store: Store, lb_id: str) -> None:
    """Remove the load balancer and, through the cleanup hooks, its children."""
    for cleanup in list(_CLEANUPS):
        cleanup(store, lb_id)
    del load_balancers(store)[lb_id]


def find_by_client_token(store: Store, token: str) -> LoadBalancerRecord | None:
    for record in load_balancers(store).values():
        if record.client_token == token:
            return record
    return None


def address_in_use(store: Store, address: str) -> bool:
    return any(r.address == address for r in load_balancers(store).values())
