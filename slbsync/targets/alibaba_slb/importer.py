"""Find existing load balancers and read them whole, for ``slbsync import``.

Finding lists ``DescribeLoadBalancers`` by id or tag, then matches names
against globs here (the API takes exact names only). Reading reuses the
plan's own reader (``read.LiveReader``) in two passes, so what import writes
is exactly what a plan will read back:

1. the load balancers, named and adopted, give their listeners, rules and
   the names of their server groups, ACLs and certificates;
2. the same load balancers with those groups and ACLs named give the
   members and the ACL entries (the reader reads only what a spec names).

Values the cloud fills in by itself and the spec may leave unset (a
listener's idle timeout of 15s, HTTP/2 on) are dropped, so the file reads
like one a person wrote; the plan ignores them either way.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from slbsync.errors import TargetError
from slbsync.spec.model import (
    Acl,
    HealthCheck,
    Listener,
    LoadBalancer,
    Protocol,
    Spec,
    XForwardedFor,
)
from slbsync.targets.alibaba_slb.names import CERTIFICATE_ID_PREFIX, owner_tag, tags_of
from slbsync.targets.alibaba_slb.read import LiveReader, _chunks
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from slbsync.targets.base import LiveLoadBalancer, LiveState

IDS_PER_CALL = 10
_NOTHING = "\x00import-probe"  # a name no live resource has

# What SLB sets when a create leaves these out (reference section 2.2); a
# live value equal to it is not written into an imported spec.
CLOUD_LISTENER_DEFAULTS = {
    "established_timeout": 900,
    "gzip": True,
    "idle_timeout": 15,
    "request_timeout": 60,
    "x_forwarded_for": XForwardedFor(),
    "http2": True,
    "tls_cipher_policy": "tls_cipher_policy_1_0",
}
CLOUD_HEALTH_CHECK_DEFAULTS = {"method": "head"}
# Zones are the cloud's choice unless asked for; an import does not pin them.
LOAD_BALANCER_DROPPED = ("master_zone_id", "slave_zone_id")


@dataclass(frozen=True)
class FoundLoadBalancer:
    id: str
    name: str
    owned: bool


def find_load_balancers(
    target: AlibabaSlbTarget,
    *,
    names: Sequence[str] = (),
    tags: Sequence[tuple[str, str]] = (),
    ids: Sequence[str] = (),
) -> list[FoundLoadBalancer]:
    """Live load balancers matching every filter given (name globs: any)."""
    reader = LiveReader(target.client, target.name, target.owner)
    params: dict[str, object] = {}
    if tags:
        params["Tag"] = [{"Key": key, "Value": value} for key, value in tags]
    if ids:
        items = [
            item
            for chunk in _chunks(sorted(set(ids)), IDS_PER_CALL)
            for item in reader._paged_load_balancers(
                {**params, "LoadBalancerId": ",".join(chunk)}
            )
        ]
    else:
        items = reader._paged_load_balancers(params)
    found = [
        FoundLoadBalancer(
            id=str(item["LoadBalancerId"]),
            name=str(item.get("LoadBalancerName") or ""),
            owned=owner_tag(tags_of(item)) == target.owner,
        )
        for item in items
        if not names
        or any(fnmatch.fnmatchcase(str(item.get("LoadBalancerName")), g) for g in names)
    ]
    _check_found(found, ids)
    return sorted(found, key=lambda lb: (lb.name, lb.id))


def _check_found(found: list[FoundLoadBalancer], ids: Sequence[str]) -> None:
    missing = sorted(set(ids) - {lb.id for lb in found})
    if missing:
        raise TargetError(
            f"--id {', '.join(missing)}: no such load balancer in this region "
            "(or it does not match the other filters)"
        )
    by_name: dict[str, list[str]] = {}
    for lb in found:
        by_name.setdefault(lb.name, []).append(lb.id)
    for name, same in sorted(by_name.items()):
        if not name:
            raise TargetError(
                f"load balancer {same[0]} has no name, and a spec names load "
                "balancers; give it a name (SetLoadBalancerName), then import again"
            )
        if len(same) > 1:
            raise TargetError(
                f"{len(same)} load balancers are named {name} ({', '.join(same)}); "
                "a spec needs names to be unique: rename all but one, or import "
                "one of them with --id"
            )


def read_for_import(
    target: AlibabaSlbTarget, found: Sequence[FoundLoadBalancer], spec: Spec
) -> LiveState:
    """The found load balancers read whole, in the spec's vocabulary.

    ``spec`` holds the target; the load balancers are added here.
    """
    # Asking for an ACL that matches nothing makes the reader list them all,
    # so listeners name their ACL by name. Certificates are not listed, so
    # listeners hold their ids: a spec refers to them as id:<id>.
    first = target.read_live_state(
        replace(
            spec,
            load_balancers=tuple(_probe(lb.name, target) for lb in found),
            acls=(Acl(name=_NOTHING, target=target.name),),
        )
    )
    bare = [
        _certificates_by_id(replace(lb.spec, adopt=True)) for lb in first.load_balancers
    ]
    acl_names = sorted(
        {li.acl.acl for lb in bare for li in lb.listeners if li.acl is not None}
    )
    second = target.read_live_state(
        replace(
            spec,
            load_balancers=tuple(bare),
            acls=tuple(Acl(name=name, target=target.name) for name in acl_names),
        )
    )
    owned = {lb.name: lb.owned for lb in found}
    return replace(
        second,
        load_balancers=tuple(
            _as_imported(live, owned[live.spec.name])
            for live in second.load_balancers
            if live.spec.name in owned
        ),
        reads=_sum_reads(first.reads, second.reads),
    )


def _probe(name: str, target: AlibabaSlbTarget) -> LoadBalancer:
    """A load balancer to read by name, whose every optional value is set.

    The reader blanks live values the spec leaves unset (the plan must not
    care about them); a probe sets them all, so none is blanked here.
    """
    return LoadBalancer(
        name=name,
        target=target.name,
        adopt=True,
        instance_charge_type="PayBySpec",
        spec="slb.s1.small",
        internet_charge_type="paybybandwidth",
        bandwidth=1,
        modification_protection=True,
        modification_protection_reason="probe",
        vswitch_id="probe",
        vpc_id="probe",
        resource_group_id="probe",
        master_zone_id="probe",
        slave_zone_id="probe",
    )


def _certificates_by_id(lb: LoadBalancer) -> LoadBalancer:
    """HTTPS listeners pointing at their certificates as ``id:<id>``.

    A certificate cannot be downloaded with its private key, so the spec
    refers to the upload that exists rather than to PEM files.
    """
    listeners = []
    for listener in lb.listeners:
        if listener.protocol == Protocol.HTTPS:
            listener = replace(
                listener,
                certificate=_by_id(listener.certificate),
                ca_certificate=_by_id(listener.ca_certificate),
            )
        listeners.append(listener)
    return replace(lb, listeners=tuple(listeners))


def _by_id(live_id: str | None) -> str | None:
    return f"{CERTIFICATE_ID_PREFIX}{live_id}" if live_id else None


def check_importable(lbs: Sequence[LiveLoadBalancer]) -> None:
    """Refuse what a spec cannot say, naming each listener and the way out."""
    _refuse_stopped_listeners(lbs)
    _refuse_listeners_without_vserver_group(lbs)


def _refuse_stopped_listeners(lbs: Sequence[LiveLoadBalancer]) -> None:
    stopped = [
        f"{lb.spec.name} {li.label}"
        for lb in lbs
        for li in lb.spec.listeners
        if li.key not in set(lb.running)
    ]
    if stopped:
        raise TargetError(
            f"cannot import stopped listeners ({', '.join(stopped)}): a spec "
            "holds running listeners only, so the first apply would start them; "
            "start or delete them, or leave those load balancers out (--name, --id)"
        )


def _refuse_listeners_without_vserver_group(lbs: Sequence[LiveLoadBalancer]) -> None:
    """A spec sends a listener's traffic to a VServer group only, so one on
    the load balancer's default servers or on a master-slave group has no
    spec to be written as."""
    found = [
        f"{lb.spec.name} {li.label} {_where_traffic_goes(lb, li)}"
        for lb in lbs
        for li in lb.spec.listeners
        if li.server_group is None and li.redirect_to_port is None
    ]
    if found:
        raise TargetError(
            f"cannot import listeners without a VServer group ({'; '.join(found)}): "
            "a spec sends a listener's traffic to a VServer group only; create "
            "a VServer group with those servers and point the listener at it "
            "(SetLoadBalancer<Protocol>ListenerAttribute with VServerGroup=on, "
            "and MasterSlaveServerGroup=off for a master-slave one), "
            "or leave those load balancers out (--name, --id)"
        )


def _where_traffic_goes(lb: LiveLoadBalancer, listener: Listener) -> str:
    master_slave = lb.id_of(f"master-slave:{listener.label}")
    if master_slave:
        return f"uses master-slave group {master_slave}"
    return "uses the load balancer's default servers"


def _as_imported(live: LiveLoadBalancer, owned: bool) -> LiveLoadBalancer:
    dropped: dict[str, Any] = dict.fromkeys(LOAD_BALANCER_DROPPED)
    lb = replace(
        live.spec,
        adopt=False,
        listeners=tuple(_without_cloud_defaults(li) for li in live.spec.listeners),
        **dropped,
    )
    return replace(live, spec=lb, owned=owned)


def _without_cloud_defaults(listener: Listener) -> Listener:
    blanks: dict[str, Any] = {
        name: None
        for name, value in CLOUD_LISTENER_DEFAULTS.items()
        if getattr(listener, name) == value
    }
    check: HealthCheck = listener.health_check
    if check.enabled:
        unset: dict[str, Any] = {
            name: None
            for name, value in CLOUD_HEALTH_CHECK_DEFAULTS.items()
            if getattr(check, name) == value
        }
        check = replace(check, **unset)
    return replace(listener, health_check=check, **blanks)


def _sum_reads(
    *reads: tuple[tuple[str, int], ...],
) -> tuple[tuple[str, int], ...]:
    total: dict[str, int] = {}
    for part in reads:
        for action, count in part:
            total[action] = total.get(action, 0) + count
    return tuple(sorted(total.items()))
