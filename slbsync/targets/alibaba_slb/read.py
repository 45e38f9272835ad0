"""Read the live state a spec names, with the fewest calls, concurrently.

Three rounds, each round's calls in parallel under the client's rate limit:

1. ``DescribeLoadBalancers`` by the spec's names (10 per call) and by the
   ownership tag (owned load balancers the spec no longer names); the ACL
   and certificate lists when the spec uses any.
2. ``DescribeLoadBalancerListeners`` for up to 10 load balancers per call
   (each item's ``*ListenerConfig`` carries every knob, so no per-listener
   calls), ``DescribeVServerGroups`` per load balancer.
3. ``DescribeVServerGroupAttribute`` per group in scope (the only call that
   lists members), ``DescribeRules`` per HTTP(S) listener that has or should
   have rules, ``DescribeAccessControlListAttribute`` per ACL in scope.

Owned load balancers the spec no longer names are read as far as a delete
needs (round 1 only), and for their listeners' certificates only when an old
owned certificate upload waits on them (in the round 2 listener calls, so
often no extra call). docs/targets/alibaba-slb.md derives the lower bound.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from slbsync.errors import TargetError
from slbsync.spec.model import (
    Acl,
    AclEntry,
    Certificate,
    ForwardingRule,
    Listener,
    LoadBalancer,
    Membership,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
    Spec,
    Tags,
)
from slbsync.targets.alibaba_slb.client import SlbClient
from slbsync.targets.alibaba_slb.names import (
    CERTIFICATE_ID_PREFIX,
    certificate_id,
    certificate_spec_name,
    is_kept_upload,
    listener_id,
    owner_tag,
    tags_of,
)
from slbsync.targets.alibaba_slb.normalise import (
    mask_unset,
    normalise_load_balancer,
    sorted_tags,
)
from slbsync.targets.alibaba_slb.wire import (
    is_on,
    listener_from_wire,
    master_slave_group_of,
)
from slbsync.targets.base import (
    OWNER_TAG,
    LiveAcl,
    LiveCertificate,
    LiveLoadBalancer,
    LiveState,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
NAMES_PER_CALL = 10
LOAD_BALANCERS_PER_LISTENER_CALL = 10
PAGE_SIZE = 100
_SERVER_TYPES = {str(t) for t in ServerType}
LISTENER_PAGE_SIZE = 100
ACL_PAGE_SIZE = 50


@dataclass
class _Found:
    """What round 1 found: raw load balancers and regional resources."""

    named: dict[str, dict[str, Any]] = field(default_factory=dict)
    orphans: list[dict[str, Any]] = field(default_factory=list)
    acls: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    ca_certificates: list[dict[str, Any]] = field(default_factory=list)


class LiveReader:
    """Reads one target's live state for a spec; one instance per read."""

    def __init__(
        self, client: SlbClient, target: str, owner: str, concurrency: int = 8
    ) -> None:
        self.client = client
        self.target = target
        self.owner = owner
        self.concurrency = max(1, concurrency)

    def read(self, spec: Spec) -> LiveState:
        before = self.client.counts()
        desired = {lb.name: lb for lb in spec.load_balancers_on(self.target)}
        acls = spec.acls_on(self.target)
        certificates = spec.certificates_on(self.target)
        with ThreadPoolExecutor(self.concurrency) as pool:
            self.pool = pool
            found = self._round_one(desired, acls, certificates)
            names = _IdNames()
            live_certs = self._certificates(found, certificates, names)
            live_acls = self._acls(found, acls, names)
            uploads = _uploads_to_decide(live_certs, certificates)
            live_lbs = self._load_balancers(found, desired, names, bool(uploads))
        after = self.client.counts()
        reads = {a: after[a] - before.get(a, 0) for a in after}
        return LiveState(
            target=self.target,
            load_balancers=tuple(sorted(live_lbs, key=lambda lb: lb.spec.name)),
            acls=tuple(sorted(live_acls, key=lambda a: a.acl.name)),
            certificates=tuple(sorted(live_certs, key=lambda c: c.certificate.name)),
            reads=tuple(sorted((a, n) for a, n in reads.items() if n)),
        )

    # -- round 1: load balancers and regional lists -------------------------

    def _round_one(
        self,
        desired: dict[str, LoadBalancer],
        acls: Sequence[Acl],
        certificates: Sequence[Certificate],
    ) -> _Found:
        listeners = [li for lb in desired.values() for li in lb.listeners]
        want_acls = bool(acls) or any(li.acl for li in listeners)
        want_certs = any(c.kind == "server" for c in certificates) or any(
            li.protocol == Protocol.HTTPS for li in listeners
        )
        want_cas = any(c.kind == "ca" for c in certificates) or any(
            li.ca_certificate for li in listeners
        )
        jobs: list[Callable[[], Any]] = [
            partial(self._load_balancers_named, chunk)
            for chunk in _chunks(sorted(desired), NAMES_PER_CALL)
        ]
        jobs.append(self._owned_load_balancers)
        jobs.append(lambda: self._paged_acls() if want_acls else [])
        jobs.append(
            lambda: (
                self._list("DescribeServerCertificates", "ServerCertificates")
                if want_certs
                else []
            )
        )
        jobs.append(
            lambda: (
                self._list("DescribeCACertificates", "CACertificates")
                if want_cas
                else []
            )
        )
        results = self._run(jobs)
        named_items = [item for batch in results[:-4] for item in batch]
        owned_items, acl_items, cert_items, ca_items = results[-4:]
        found = _Found(
            acls=acl_items, certificates=cert_items, ca_certificates=ca_items
        )
        found.named = self._pick_by_name(named_items + owned_items, desired)
        picked = {item["LoadBalancerId"] for item in found.named.values()}
        found.orphans = [
            item
            for item in owned_items
            if item["LoadBalancerId"] not in picked
            and item.get("LoadBalancerName") not in desired
        ]
        return found

    def _load_balancers_named(self, names: Sequence[str]) -> list[dict[str, Any]]:
        params = {"LoadBalancerName": ",".join(names)}
        items = self._paged_load_balancers(params)
        return [item for item in items if item.get("LoadBalancerName") in names]

    def _owned_load_balancers(self) -> list[dict[str, Any]]:
        params = {"Tag": [{"Key": OWNER_TAG, "Value": self.owner}]}
        items = self._paged_load_balancers(params)
        return [item for item in items if self._is_owned(item)]

    def _paged_load_balancers(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.client.read(
                "DescribeLoadBalancers",
                {**params, "PageSize": PAGE_SIZE, "PageNumber": page},
            )
            batch = (body.get("LoadBalancers") or {}).get("LoadBalancer") or []
            items.extend(batch)
            total = int(body.get("TotalCount") or 0)
            if not batch or len(items) >= total:
                return items
            page += 1

    def _pick_by_name(
        self, items: Iterable[dict[str, Any]], desired: dict[str, LoadBalancer]
    ) -> dict[str, dict[str, Any]]:
        """One live load balancer per spec name: the owned one if any.

        Names are not unique in SLB; two owned load balancers of one name
        mean a duplicate slbsync cannot tell apart, so the read refuses.
        """
        by_name: dict[str, dict[str, dict[str, Any]]] = {}
        for item in items:
            name = item.get("LoadBalancerName")
            if name in desired:
                by_name.setdefault(name, {})[item["LoadBalancerId"]] = item
        picked: dict[str, dict[str, Any]] = {}
        for name, candidates in sorted(by_name.items()):
            owned = [c for c in candidates.values() if self._is_owned(c)]
            if len(owned) > 1:
                ids = ", ".join(sorted(c["LoadBalancerId"] for c in owned))
                raise TargetError(
                    f"target {self.target}: load balancer {name} exists {len(owned)} times, all owned ({ids}); delete the extra ones by hand, then plan again"  # noqa: E501
                )
            if owned:
                picked[name] = owned[0]
            elif len(candidates) == 1 or not desired[name].adopt:
                picked[name] = sorted(candidates.values(), key=_lb_id)[0]
            else:
                ids = ", ".join(sorted(candidates))
                raise TargetError(
                    f"target {self.target}: load balancer {name} cannot be adopted: {len(candidates)} load balancers have that name ({ids}); rename all but one, then plan again"  # noqa: E501
                )
        return picked

    def _is_owned(self, item: dict[str, Any]) -> bool:
        return owner_tag(tags_of(item)) == self.owner

    def _paged_acls(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.client.read(
                "DescribeAccessControlLists",
                {"PageSize": ACL_PAGE_SIZE, "PageNumber": page},
            )
            batch = (body.get("Acls") or {}).get("Acl") or []
            items.extend(batch)
            total = int(body.get("TotalCount") or 0)
            if not batch or len(items) >= total:
                return items
            page += 1

    def _list(self, action: str, container: str) -> list[dict[str, Any]]:
        body = self.client.read(action, {})
        inner = body.get(container) or {}
        return list(next(iter(inner.values()), []) or [])

    # -- certificates and ACLs ---------------------------------------------

    def _certificates(
        self, found: _Found, desired: Sequence[Certificate], names: _IdNames
    ) -> list[LiveCertificate]:
        live: list[LiveCertificate] = []
        for kind, items, prefix in (
            ("server", found.certificates, "ServerCertificate"),
            ("ca", found.ca_certificates, "CACertificate"),
        ):
            wanted = {c.name: c for c in desired if c.kind == kind}
            live.extend(self._certificates_of(kind, items, prefix, wanted, names))
        return live

    def _certificates_of(
        self,
        kind: str,
        items: list[dict[str, Any]],
        prefix: str,
        wanted: dict[str, Certificate],
        names: _IdNames,
    ) -> list[LiveCertificate]:
        by_spec_name: dict[str, list[dict[str, Any]]] = {}
        id_kind = "certificate" if kind == "server" else "ca_certificate"
        for item in items:
            upload_name = str(item.get(f"{prefix}Name") or "")
            names.add(id_kind, item[f"{prefix}Id"], upload_name)
            spec_name = certificate_spec_name(upload_name)
            owned = owner_tag(tags_of(item)) == self.owner
            if spec_name in wanted or owned:
                by_spec_name.setdefault(spec_name, []).append(item)
        live = []
        for spec_name, versions in sorted(by_spec_name.items()):
            want = wanted.get(spec_name)
            item = _best_version(versions, prefix, want)
            names.add(id_kind, item[f"{prefix}Id"], spec_name)
            cert = Certificate(
                name=spec_name,
                target=self.target,
                kind=kind,
                fingerprint=str(item.get("Fingerprint") or "").lower(),
            )
            owned = owner_tag(tags_of(item)) == self.owner
            old = self._old_uploads(versions, item, prefix) if want else ()
            live.append(LiveCertificate(cert, item[f"{prefix}Id"], owned, old))
        return live

    def _old_uploads(
        self, versions: list[dict[str, Any]], standing: dict[str, Any], prefix: str
    ) -> tuple[tuple[str, str], ...]:
        """Owned uploads of a spec name other than the one standing for it."""
        return tuple(
            sorted(
                (str(v[f"{prefix}Id"]), str(v.get("Fingerprint") or "").lower())
                for v in versions
                if v is not standing
                and owner_tag(tags_of(v)) == self.owner
                and not is_kept_upload(v)
            )
        )

    def _acls(
        self, found: _Found, desired: Sequence[Acl], names: _IdNames
    ) -> list[LiveAcl]:
        wanted = {acl.name: acl for acl in desired}
        in_scope = []
        for item in found.acls:
            names.add("acl", item["AclId"], str(item.get("AclName")))
            owned = owner_tag(tags_of(item)) == self.owner
            if item.get("AclName") in wanted or owned:
                in_scope.append((item, owned))
        details = self._run(
            [partial(self._acl_entries, item["AclId"]) for item, _ in in_scope]
        )
        live = []
        for (item, owned), entries in zip(in_scope, details, strict=True):
            name = str(item["AclName"])
            acl = Acl(
                name=name,
                target=self.target,
                entries=_in_desired_order(entries, wanted.get(name)),
                address_ip_version=str(item.get("AddressIPVersion") or "ipv4"),
                tags=_tags_like(sorted_tags(tags_of(item)), wanted.get(name)),
            )
            live.append(LiveAcl(acl, item["AclId"], owned))
        return live

    def _acl_entries(self, acl_id: str) -> list[AclEntry]:
        entries: list[AclEntry] = []
        page = 1
        while True:
            body = self.client.read(
                "DescribeAccessControlListAttribute",
                {"AclId": acl_id, "PageSize": ACL_PAGE_SIZE, "Page": page},
            )
            batch = (body.get("AclEntrys") or {}).get("AclEntry") or []
            entries.extend(
                AclEntry(
                    cidr=str(e.get("AclEntryIP")),
                    comment=str(e.get("AclEntryComment") or ""),
                )
                for e in batch
            )
            total = int(body.get("TotalAclEntry") or 0)
            if not batch or len(entries) >= total:
                return entries
            page += 1

    # -- rounds 2 and 3: listeners, groups, members, rules ------------------

    def _load_balancers(
        self,
        found: _Found,
        desired: dict[str, LoadBalancer],
        names: _IdNames,
        read_orphan_listeners: bool,
    ) -> list[LiveLoadBalancer]:
        # Children of a load balancer slbsync may not touch are not read:
        # the plan leaves it alone anyway.
        managed = [
            item
            for item in found.named.values()
            if self._is_owned(item) or desired[item["LoadBalancerName"]].adopt
        ]
        unmanaged = [item for item in found.named.values() if item not in managed]
        items = sorted(managed, key=_lb_id)
        ids = [item["LoadBalancerId"] for item in items]
        # The listeners of owned load balancers the spec no longer names ride
        # in the same bulk calls, read only when an old upload may wait on them.
        orphan_ids = (
            sorted(item["LoadBalancerId"] for item in found.orphans)
            if read_orphan_listeners
            else []
        )
        jobs: list[Callable[[], Any]] = [
            partial(self._listeners, chunk)
            for chunk in _chunks(ids + orphan_ids, LOAD_BALANCERS_PER_LISTENER_CALL)
        ]
        jobs.extend(partial(self._groups, lb_id) for lb_id in ids)
        results = self._run(jobs)
        listener_chunks = results[: len(jobs) - len(ids)]
        listeners_by_lb: dict[str, list[dict[str, Any]]] = {}
        for chunk in listener_chunks:
            for item in chunk:
                listeners_by_lb.setdefault(item["LoadBalancerId"], []).append(item)
        groups_by_lb = dict(zip(ids, results[len(jobs) - len(ids) :], strict=True))

        for groups in groups_by_lb.values():
            for group in groups:
                names.add("group", group["VServerGroupId"], group["VServerGroupName"])
        details = self._round_three(items, desired, listeners_by_lb, groups_by_lb)
        live = [
            self._live_load_balancer(
                item,
                desired[item["LoadBalancerName"]],
                listeners_by_lb.get(item["LoadBalancerId"], []),
                groups_by_lb[item["LoadBalancerId"]],
                details,
                names,
            )
            for item in items
        ]
        live.extend(
            self._bare(
                item,
                owned=True,
                uses=(
                    _certificate_uses(listeners_by_lb.get(item["LoadBalancerId"], []))
                    if orphan_ids
                    else None
                ),
            )
            for item in found.orphans
        )
        live.extend(self._bare(item, owned=False) for item in unmanaged)
        return live

    def _listeners(self, lb_ids: Sequence[str]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        for _ in range(1000):  # bounded: 100 per page, 50 listeners per LB
            params: dict[str, Any] = {
                "LoadBalancerId": list(lb_ids),
                "MaxResults": LISTENER_PAGE_SIZE,
            }
            if token:
                params["NextToken"] = token
            body = self.client.read("DescribeLoadBalancerListeners", params)
            items.extend(body.get("Listeners") or [])
            token = body.get("NextToken")
            if not token:
                break
        return items

    def _groups(self, lb_id: str) -> list[dict[str, Any]]:
        body = self.client.read(
            "DescribeVServerGroups", {"LoadBalancerId": lb_id, "IncludeRule": True}
        )
        groups = list((body.get("VServerGroups") or {}).get("VServerGroup") or [])
        return _label_duplicates(groups)

    def _round_three(
        self,
        items: Sequence[dict[str, Any]],
        desired: dict[str, LoadBalancer],
        listeners_by_lb: dict[str, list[dict[str, Any]]],
        groups_by_lb: dict[str, list[dict[str, Any]]],
    ) -> dict[str, Any]:
        """Members of groups in scope and rules of HTTP(S) listeners, by id."""
        keys: list[str] = []
        jobs: list[Callable[[], Any]] = []
        for item in items:
            lb_id = item["LoadBalancerId"]
            wanted = desired[item["LoadBalancerName"]]
            for group in groups_by_lb[lb_id]:
                if _members_needed(wanted, group["VServerGroupName"]):
                    group_id = group["VServerGroupId"]
                    keys.append(f"group:{group_id}")
                    jobs.append(partial(self._members, group_id))
            has_rules = any(_rules_of_group(g) for g in groups_by_lb[lb_id])
            for listener in listeners_by_lb.get(lb_id, []):
                protocol = str(listener["ListenerProtocol"]).lower()
                port = int(listener["ListenerPort"])
                if protocol not in ("http", "https"):
                    continue
                spec_rules = any(
                    li.rules for li in wanted.listeners if li.key == (protocol, port)
                )
                if spec_rules or has_rules:
                    keys.append(f"rules:{lb_id}/{protocol}/{port}")
                    jobs.append(partial(self._rules, lb_id, protocol, port))
        return dict(zip(keys, self._run(jobs), strict=True))

    def _members(self, group_id: str) -> list[dict[str, Any]]:
        body = self.client.read(
            "DescribeVServerGroupAttribute", {"VServerGroupId": group_id}
        )
        return list((body.get("BackendServers") or {}).get("BackendServer") or [])

    def _rules(self, lb_id: str, protocol: str, port: int) -> list[dict[str, Any]]:
        body = self.client.read(
            "DescribeRules",
            {
                "LoadBalancerId": lb_id,
                "ListenerPort": port,
                "ListenerProtocol": protocol,
            },
        )
        return list((body.get("Rules") or {}).get("Rule") or [])

    # -- building the model -------------------------------------------------

    def _live_load_balancer(
        self,
        item: dict[str, Any],
        desired: LoadBalancer,
        listener_items: list[dict[str, Any]],
        group_items: list[dict[str, Any]],
        details: dict[str, Any],
        names: _IdNames,
    ) -> LiveLoadBalancer:
        lb_id = item["LoadBalancerId"]
        ids: dict[str, str] = {"lb": lb_id}
        groups = []
        for group in group_items:
            name = group["VServerGroupName"]
            ids[f"group:{name}"] = group["VServerGroupId"]
            members = details.get(f"group:{group['VServerGroupId']}")
            wanted = desired.server_group(name)
            groups.append(_group_from(group, members, wanted))
        listeners = []
        running = []
        for raw in sorted(listener_items, key=_listener_sort_key):
            listener = _certificates_by_id(
                listener_from_wire(raw, names.name_of), raw, desired
            )
            rules_raw = details.get(
                f"rules:{lb_id}/{listener.protocol}/{listener.port}", []
            )
            rules = tuple(_rule_from(r, names) for r in rules_raw)
            for raw_rule, rule in zip(rules_raw, rules, strict=True):
                ids[f"rule:{listener.label}/{rule.name}"] = raw_rule["RuleId"]
            listeners.append(replace(listener, rules=rules))
            ids[f"listener:{listener.label}"] = listener_id(
                lb_id, str(listener.protocol), listener.port
            )
            master_slave = master_slave_group_of(raw)
            if master_slave:
                # The spec has no master-slave groups; import refuses these.
                ids[f"master-slave:{listener.label}"] = master_slave
            if str(raw.get("Status")) == "running":
                running.append(listener.key)
        spec = normalise_load_balancer(
            _load_balancer_from(item, self.target, desired.adopt, groups, listeners)
        )
        spec = mask_unset(spec, normalise_load_balancer(desired))
        return LiveLoadBalancer(
            spec=spec,
            id=lb_id,
            owned=self._is_owned(item),
            running=tuple(sorted(running)),
            ids=tuple(sorted(ids.items())),
        )

    def _bare(
        self,
        item: dict[str, Any],
        *,
        owned: bool,
        uses: tuple[tuple[str, str], ...] | None = None,
    ) -> LiveLoadBalancer:
        """A load balancer without its children: an owned one the spec no
        longer names (a delete takes its children along), or one not owned
        (the plan leaves it alone)."""
        spec = normalise_load_balancer(
            _load_balancer_from(item, self.target, False, [], [])
        )
        return LiveLoadBalancer(
            spec=spec,
            id=item["LoadBalancerId"],
            owned=owned,
            ids=(("lb", item["LoadBalancerId"]),),
            children_read=False,
            certificate_uses=uses,
        )

    def _run(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        if len(jobs) <= 1:
            return [job() for job in jobs]
        futures = [self.pool.submit(job) for job in jobs]
        return [future.result() for future in futures]


class _IdNames:
    """Live ids to spec names, per kind (group, acl, certificate)."""

    def __init__(self) -> None:
        self._names: dict[tuple[str, str], str] = {}

    def add(self, kind: str, live_id: str, name: str) -> None:
        self._names[(kind, live_id)] = name

    def name_of(self, kind: str, live_id: str) -> str | None:
        return self._names.get((kind, live_id))


def _label_duplicates(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group names are not unique in SLB. The group of a name with the most
    members (then the oldest) stands for it; another reads as ``name (id)``,
    a group the spec does not name, so the plan re-points listeners away
    from it and ``--prune`` deletes it."""
    seen: set[str] = set()
    labelled = []
    for group in sorted(groups, key=_standing):
        name = str(group["VServerGroupName"])
        if name in seen:
            group = {**group, "VServerGroupName": f"{name} ({group['VServerGroupId']})"}
        seen.add(name)
        labelled.append(group)
    return labelled


def _standing(group: dict[str, Any]) -> tuple[int, str, str]:
    count = int(group.get("ServerCount") or 0)
    return (-count, str(group.get("CreateTime") or ""), str(group["VServerGroupId"]))


def _certificates_by_id(
    listener: Listener, raw: dict[str, Any], desired: LoadBalancer
) -> Listener:
    """Live certificates as ``id:<id>`` where the spec names them that way."""
    wanted = next((li for li in desired.listeners if li.key == listener.key), None)
    if wanted is None or listener.protocol != Protocol.HTTPS:
        return listener
    config = raw.get("HTTPSListenerConfig") or {}
    by_id: dict[str, Any] = {}
    for field_name, param in (
        ("certificate", "ServerCertificateId"),
        ("ca_certificate", "CACertificateId"),
    ):
        if certificate_id(getattr(wanted, field_name)):
            live_id = config.get(param)
            by_id[field_name] = f"{CERTIFICATE_ID_PREFIX}{live_id}" if live_id else None
    return replace(listener, **by_id) if by_id else listener


def _load_balancer_from(
    item: dict[str, Any],
    target: str,
    adopt: bool,
    groups: list[ServerGroup],
    listeners: list[Listener],
) -> LoadBalancer:
    bandwidth = item.get("Bandwidth")
    return LoadBalancer(
        name=str(item.get("LoadBalancerName") or item["LoadBalancerId"]),
        target=target,
        address_type=str(item.get("AddressType") or "internet"),
        address_ip_version=str(item.get("AddressIPVersion") or "ipv4"),
        vswitch_id=item.get("VSwitchId") or None,
        vpc_id=item.get("VpcId") or None,
        instance_charge_type=str(item.get("InstanceChargeType") or "PayBySpec"),
        spec=item.get("LoadBalancerSpec") or None,
        internet_charge_type=str(item.get("InternetChargeType") or "paybytraffic"),
        bandwidth=int(bandwidth) if bandwidth not in (None, "") else None,
        deletion_protection=is_on(item.get("DeleteProtection")),
        modification_protection=(
            item.get("ModificationProtectionStatus") == "ConsoleProtection"
        ),
        modification_protection_reason=(
            item.get("ModificationProtectionReason") or None
        ),
        resource_group_id=item.get("ResourceGroupId") or None,
        master_zone_id=item.get("MasterZoneId") or None,
        slave_zone_id=item.get("SlaveZoneId") or None,
        tags=sorted_tags(tags_of(item)),
        server_groups=tuple(groups),
        listeners=tuple(listeners),
        adopt=adopt,
    )


def _group_from(
    item: dict[str, Any],
    members: list[dict[str, Any]] | None,
    wanted: ServerGroup | None,
) -> ServerGroup:
    membership = wanted.membership if wanted else Membership.STATIC
    servers = tuple(_server_from(m) for m in members or [])
    if members is None and wanted is not None:
        servers = wanted.servers  # external membership: not read, not compared
    return ServerGroup(
        name=str(item["VServerGroupName"]),
        membership=membership,
        servers=servers,
        discover=wanted.discover if wanted else None,
        tags=sorted_tags(tags_of(item)),
    )


def server_from(item: dict[str, Any]) -> Server:
    """One ``BackendServer`` item of a VServer group as a spec ``Server``."""
    return _server_from(item)


def _server_from(item: dict[str, Any]) -> Server:
    kind = str(item.get("Type") or "ecs").lower()
    return Server(
        port=int(item["Port"]),
        id=str(item["ServerId"]),
        address=(item.get("ServerIp") or None) if kind in ("eni", "eci") else None,
        weight=int(item.get("Weight", 100) if item.get("Weight") is not None else 100),
        type=ServerType(kind) if kind in _SERVER_TYPES else ServerType.ECS,
        description=str(item.get("Description") or ""),
    )


def _rule_from(item: dict[str, Any], names: _IdNames) -> ForwardingRule:
    group_id = str(item.get("VServerGroupId") or "")
    return ForwardingRule(
        name=str(item["RuleName"]),
        server_group=names.name_of("group", group_id) or group_id,
        domain=item.get("Domain") or None,
        url=item.get("Url") or None,
    )


def _members_needed(desired: LoadBalancer, group_name: str) -> bool:
    """Members are read for groups the spec names, except ``external`` ones
    (someone else decides their members, so the plan never compares them)."""
    group = desired.server_group(group_name)
    return group is not None and group.membership != Membership.EXTERNAL


def _rules_of_group(group: dict[str, Any]) -> list[Any]:
    objects = group.get("AssociatedObjects") or {}
    return list((objects.get("Rules") or {}).get("Rule") or [])


def _in_desired_order(
    entries: list[AclEntry], desired: Acl | None
) -> tuple[AclEntry, ...]:
    """Live entries in the spec's order (the cloud's order is its own), extras
    last, so equal sets compare equal."""
    if desired is None:
        return tuple(sorted(entries, key=lambda e: e.cidr))
    rank = {entry.cidr: index for index, entry in enumerate(desired.entries)}
    return tuple(sorted(entries, key=lambda e: (rank.get(e.cidr, len(rank)), e.cidr)))


def _tags_like(tags: Tags, desired: Acl | None) -> Tags:
    """The spec's own order when the sets match: ACLs are compared as the
    spec wrote them (the target's ``normalise`` sees load balancers only)."""
    if desired is not None and set(desired.tags) == set(tags):
        return desired.tags
    return tags


def _best_version(
    versions: list[dict[str, Any]], prefix: str, want: Certificate | None
) -> dict[str, Any]:
    """The upload that stands for a spec certificate: the one with the
    spec's fingerprint, else the newest."""
    if want is not None and want.fingerprint:
        for item in versions:
            if str(item.get("Fingerprint") or "").lower() == want.fingerprint.lower():
                return item
    return max(versions, key=lambda v: int(v.get("CreateTimeStamp") or 0))


def _uploads_to_decide(
    live: Sequence[LiveCertificate], desired: Sequence[Certificate]
) -> list[str]:
    """Owned uploads a plan may delete: earlier ones of a spec name, and the
    standing one when the spec's content differs (a rotation)."""
    fingerprints = {(c.kind, c.name): c.fingerprint.lower() for c in desired}
    ids = [upload_id for cert in live for upload_id, _ in cert.old_uploads]
    for cert in live:
        want = fingerprints.get((cert.certificate.kind, cert.certificate.name))
        if cert.owned and want and want != cert.certificate.fingerprint:
            ids.append(cert.id)
    return ids


def _certificate_uses(
    listener_items: Sequence[dict[str, Any]],
) -> tuple[tuple[str, str], ...]:
    """(listener label, certificate id) for each certificate HTTPS listeners use."""
    uses = set()
    for item in listener_items:
        config = item.get("HTTPSListenerConfig") or {}
        label = f"{str(item['ListenerProtocol']).lower()}/{item['ListenerPort']}"
        for param in ("ServerCertificateId", "CACertificateId"):
            if config.get(param):
                uses.add((label, str(config[param])))
    return tuple(sorted(uses))


def _listener_sort_key(item: dict[str, Any]) -> tuple[int, str]:
    return (int(item["ListenerPort"]), str(item["ListenerProtocol"]))


def _lb_id(item: dict[str, Any]) -> str:
    return str(item["LoadBalancerId"])


def _chunks(items: Sequence[T], size: int) -> list[list[T]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]
