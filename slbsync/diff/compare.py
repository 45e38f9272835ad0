"""Compare a spec with a target's live state, in a target-neutral way.

``compare`` walks the resources a spec aims at one target and says, for each,
whether it is missing, modified or (owned and no longer named) unexpected.
The target then turns those differences into calls (``Target.changes_for``).

What the differences promise to a target:

- A missing load balancer comes with missing differences for all its server
  groups, their servers, its listeners and their rules, so the target can
  create everything in one plan (and fold servers into a create call if its
  API takes them).
- Listeners are matched by (protocol, port). A desired listener whose port
  is held live by a listener of another protocol is a ``modified`` listener
  with a ``protocol`` field change: the target decides whether that needs a
  replacement. A live listener that is not started gets a ``running``
  field change (False -> True): the spec has no stopped listeners.
- Nested values are compared field by field with dotted names
  (``health_check.interval``, ``sticky_session.cookie``); tags, ACL entries
  and other tuples are one field each.
- Rules are matched by name within their listener. On a target where rule
  order is behaviour (``Target.rule_order_matters``), each rule both sides
  have whose place among those rules differs gets a ``position`` field
  change (1-based places, live -> spec): a rule added or removed moves no
  other rule's place, so only a reorder shows.
- Servers of ``static`` groups are compared one by one; a live server the
  spec does not list is ``unexpected`` and removed without ``--prune``
  (the spec lists the whole membership; the safety check limits removals).
  ``external`` groups never get server differences. ``discovered`` groups
  are compared with the members a ``Discover`` hook resolves, or, without
  one, with the live members (no differences).
- Whole resources (load balancers, listeners, groups, rules, ACLs,
  certificates) that are live, owned and not in the spec are ``unexpected``
  only when ``prune`` is on.
- A live load balancer that is not owned gets no differences at all unless
  the spec adopts it (``adopt: true``); adopting adds an ``owned`` field
  change (False -> True).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slbsync.diff.changes import FieldChange, ResourceAddress, ResourceKind
from slbsync.diff.differences import RULE_POSITION, Difference, DifferenceStatus
from slbsync.spec.model import (
    Acl,
    Certificate,
    ForwardingRule,
    Listener,
    LoadBalancer,
    Membership,
    Protocol,
    Server,
    ServerGroup,
    Spec,
)
from slbsync.spec.plain import field_names, is_model_value, to_plain
from slbsync.targets.base import LiveLoadBalancer, LiveState, Target

Discover = Callable[[LoadBalancer, ServerGroup], tuple[Server, ...]]
"""Resolves the desired members of a ``discovered`` group (``Target.discovery``)."""

MISSING = DifferenceStatus.MISSING
MODIFIED = DifferenceStatus.MODIFIED
UNEXPECTED = DifferenceStatus.UNEXPECTED

# Fields that identify a resource or hold its children: never compared as
# attributes of the resource itself.
_NOT_ATTRIBUTES = {
    ResourceKind.LOAD_BALANCER: {
        "name",
        "target",
        "server_groups",
        "listeners",
        "adopt",
        "location",
    },
    ResourceKind.LISTENER: {"protocol", "port", "rules", "location"},
    # Membership and discovery are spec-side decisions, not live attributes.
    ResourceKind.SERVER_GROUP: {
        "name",
        "membership",
        "servers",
        "discover",
        "location",
    },
    ResourceKind.SERVERS: {"id", "address", "port", "location"},
    ResourceKind.RULE: {"name", "location"},
    ResourceKind.ACL: {"name", "target", "location"},
    # A certificate is known by its content; files and PEM text are inputs.
    ResourceKind.CERTIFICATE: {
        "name",
        "target",
        "certificate_file",
        "private_key_file",
        "certificate_pem",
        "location",
    },
}


@dataclass(frozen=True)
class Comparison:
    """What ``compare`` found: differences, and warnings on skipped resources."""

    differences: list[Difference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def compare(
    spec: Spec,
    live: LiveState,
    target: Target,
    *,
    prune: bool = False,
    discover: Discover | None = None,
) -> Comparison:
    """Differences between what ``spec`` aims at ``target`` and ``live``."""
    walk = _Walk(target, live, prune=prune, discover=discover)
    walk.certificates(spec.certificates_on(target.name))
    walk.acls(spec.acls_on(target.name))
    desired = sorted(spec.load_balancers_on(target.name), key=lambda lb: lb.name)
    for lb in desired:
        walk.load_balancer(target.normalise(lb))
    if prune:
        named = {lb.name for lb in desired}
        for live_lb in sorted(live.load_balancers, key=lambda lb: lb.spec.name):
            if live_lb.owned and live_lb.spec.name not in named:
                walk.unexpected_load_balancer(live_lb)
    return Comparison(walk.differences, walk.skipped)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A dataclass as dotted field names to JSON-friendly leaf values."""
    if is_model_value(value):
        flat: dict[str, Any] = {}
        for name in field_names(type(value)):
            flat.update(flatten(getattr(value, name), f"{prefix}{name}."))
        return flat
    return {prefix.rstrip("."): to_plain(value)}


def field_changes(
    desired: Any, live: Any, kind: ResourceKind, ignored: frozenset[str]
) -> tuple[FieldChange, ...]:
    """The attributes of ``kind`` where ``desired`` and ``live`` differ."""
    skip = _NOT_ATTRIBUTES.get(kind, set())
    changes = []
    for name in field_names(type(desired)):
        if name in skip or name in ignored:
            continue
        new, old = getattr(desired, name), getattr(live, name, None)
        # Equal values are the common case: only differing ones are expanded.
        if new == old:
            continue
        want, have = flatten(new, f"{name}."), flatten(old, f"{name}.")
        for key in want.keys() | have.keys():
            if not _is_ignored(key, ignored) and have.get(key) != want.get(key):
                changes.append(FieldChange(key, have.get(key), want.get(key)))
    return tuple(sorted(changes, key=lambda change: change.field))


def _is_ignored(name: str, ignored: frozenset[str]) -> bool:
    # "health_check" ignores every health_check.* field too.
    parts = name.split(".")
    return any(".".join(parts[: i + 1]) in ignored for i in range(len(parts)))


def _address(walk: _Walk, lb: str, kind: ResourceKind, name: str) -> ResourceAddress:
    return ResourceAddress(walk.target.name, lb, kind, name)


class _Walk:
    """One comparison's state: the target, the live state and what was found."""

    def __init__(
        self,
        target: Target,
        live: LiveState,
        *,
        prune: bool,
        discover: Discover | None,
    ) -> None:
        self.target = target
        self.live = live
        self.prune = prune
        self.discover = discover
        self.differences: list[Difference] = []
        self.skipped: list[str] = []
        # LiveState.load_balancer scans; a fleet of thousands needs a map.
        self.live_by_name = {lb.spec.name: lb for lb in live.load_balancers}
        self._ignored: dict[ResourceKind, frozenset[str]] = {}

    def ignored(self, kind: ResourceKind) -> frozenset[str]:
        if kind not in self._ignored:
            self._ignored[kind] = frozenset(self.target.ignored_fields(kind))
        return self._ignored[kind]

    def add(
        self,
        status: DifferenceStatus,
        address: ResourceAddress,
        *,
        desired: Any = None,
        live: Any = None,
        fields: tuple[FieldChange, ...] = (),
        live_id: str | None = None,
    ) -> None:
        self.differences.append(
            Difference(status, address, desired, live, fields, live_id)
        )

    def compare_pair(
        self,
        address: ResourceAddress,
        desired: Any,
        live: Any,
        live_id: str | None,
        extra: tuple[FieldChange, ...] = (),
    ) -> None:
        """A modified difference when the pair differs; nothing when equal."""
        fields = extra + field_changes(
            desired, live, address.kind, self.ignored(address.kind)
        )
        if fields:
            self.add(
                MODIFIED,
                address,
                desired=desired,
                live=live,
                fields=fields,
                live_id=live_id,
            )

    # -- regional resources ------------------------------------------------

    def certificates(self, desired: Iterable[Certificate]) -> None:
        live = {item.certificate.name: item for item in self.live.certificates}
        self._regional(
            ResourceKind.CERTIFICATE,
            {cert.name: cert for cert in desired},
            {
                name: (item.certificate, item.id, item.owned)
                for name, item in live.items()
            },
        )

    def acls(self, desired: Iterable[Acl]) -> None:
        live = {item.acl.name: item for item in self.live.acls}
        self._regional(
            ResourceKind.ACL,
            {acl.name: acl for acl in desired},
            {name: (item.acl, item.id, item.owned) for name, item in live.items()},
        )

    def _regional(
        self,
        kind: ResourceKind,
        desired: dict[str, Any],
        live: dict[str, tuple[Any, str, bool]],
    ) -> None:
        for name in sorted(desired.keys() | live.keys()):
            address = _address(self, "", kind, name)
            want = desired.get(name)
            if name not in live:
                self.add(MISSING, address, desired=want)
                continue
            have, live_id, owned = live[name]
            if want is None:
                if owned and self.prune:
                    self.add(UNEXPECTED, address, live=have, live_id=live_id)
            elif not owned:
                self.skipped.append(
                    f"target {self.target.name}: {address} ({live_id}) exists and "
                    "is not owned by slbsync; it is left alone"
                )
            else:
                self.compare_pair(address, want, have, live_id)

    # -- load balancers ----------------------------------------------------

    def load_balancer(self, lb: LoadBalancer) -> None:
        address = _address(self, lb.name, ResourceKind.LOAD_BALANCER, lb.name)
        live_lb = self.live_by_name.get(lb.name)
        if live_lb is None:
            self.add(MISSING, address, desired=lb)
            self._children(lb, None)
            return

        extra: tuple[FieldChange, ...] = ()
        if not live_lb.owned:
            if not lb.adopt:
                self.skipped.append(
                    f"target {self.target.name}: load balancer {lb.name} "
                    f"({live_lb.id}) is not owned; set adopt: true to manage it"
                )
                return
            extra = (FieldChange("owned", False, True),)
        self.compare_pair(address, lb, live_lb.spec, live_lb.id, extra)
        self._children(lb, live_lb)

    def unexpected_load_balancer(self, live_lb: LiveLoadBalancer) -> None:
        # Its listeners and groups go with it: one difference.
        name = live_lb.spec.name
        address = _address(self, name, ResourceKind.LOAD_BALANCER, name)
        self.add(UNEXPECTED, address, live=live_lb.spec, live_id=live_lb.id)

    def _children(self, lb: LoadBalancer, live_lb: LiveLoadBalancer | None) -> None:
        live_spec = live_lb.spec if live_lb else None
        live_groups = {g.name: g for g in live_spec.server_groups} if live_spec else {}
        for group in sorted(lb.server_groups, key=lambda g: g.name):
            self._server_group(lb, group, live_groups.get(group.name), live_lb)
        if self.prune:
            for name in sorted(live_groups.keys() - {g.name for g in lb.server_groups}):
                address = _address(self, lb.name, ResourceKind.SERVER_GROUP, name)
                self.add(
                    UNEXPECTED,
                    address,
                    live=live_groups[name],
                    live_id=_id_of(live_lb, f"group:{name}"),
                )
        self._listeners(lb, live_lb)

    def _server_group(
        self,
        lb: LoadBalancer,
        group: ServerGroup,
        live_group: ServerGroup | None,
        live_lb: LiveLoadBalancer | None,
    ) -> None:
        address = _address(self, lb.name, ResourceKind.SERVER_GROUP, group.name)
        group_id = _id_of(live_lb, f"group:{group.name}")
        if live_group is None:
            self.add(MISSING, address, desired=group)
        else:
            self.compare_pair(address, group, live_group, group_id)
        self._servers(lb, group, live_group, group_id)

    def _servers(
        self,
        lb: LoadBalancer,
        group: ServerGroup,
        live_group: ServerGroup | None,
        group_id: str | None,
    ) -> None:
        if group.membership == Membership.EXTERNAL:
            return
        live_servers = live_group.servers_by_key() if live_group else {}
        if group.membership == Membership.DISCOVERED:
            # Without a hook the group is taken as it is live: drift passes
            # none on purpose (membership churn is not drift); plan, apply and
            # drift --remediate pass the target's discovery (ECS on
            # alibaba-slb; the other targets refuse discovered groups).
            if self.discover is None:
                return
            desired = {s.key: s for s in self.discover(lb, group)}
        else:
            desired = group.servers_by_key()

        # Desired order first (as the spec lists them), then live extras.
        for key, server in desired.items():
            address = self._server_address(lb, group, server)
            have = live_servers.get(key)
            if have is None:
                self.add(MISSING, address, desired=server, live_id=group_id)
            else:
                self.compare_pair(address, server, have, group_id)
        for key in sorted(live_servers.keys() - desired.keys()):
            have = live_servers[key]
            address = self._server_address(lb, group, have)
            self.add(UNEXPECTED, address, live=have, live_id=group_id)

    def _server_address(
        self, lb: LoadBalancer, group: ServerGroup, server: Server
    ) -> ResourceAddress:
        name = f"{group.name}/{server.label}"
        return _address(self, lb.name, ResourceKind.SERVERS, name)

    # -- listeners and rules -----------------------------------------------

    def _listeners(self, lb: LoadBalancer, live_lb: LiveLoadBalancer | None) -> None:
        live_list = live_lb.spec.listeners if live_lb else ()
        live_by_key = {listener.key: listener for listener in live_list}
        desired = sorted(lb.listeners, key=lambda item: (item.port, item.key))
        matched = {item.key for item in desired if item.key in live_by_key}

        # A port held live under another protocol: a protocol change.
        desired_keys = {item.key for item in desired}
        spare = [item for item in live_list if item.key not in desired_keys]
        for listener in desired:
            have = live_by_key.get(listener.key)
            if have is None:
                have = _port_clash(listener, spare)
            if have is not None and have.key != listener.key:
                spare.remove(have)
                matched.add(have.key)
            self._listener(lb, listener, have, live_lb)

        if self.prune:
            for key in sorted(live_by_key.keys() - matched, key=lambda k: (k[1], k)):
                have = live_by_key[key]
                address = _address(self, lb.name, ResourceKind.LISTENER, have.label)
                self.add(
                    UNEXPECTED,
                    address,
                    live=have,
                    live_id=_id_of(live_lb, f"listener:{have.label}"),
                )

    def _listener(
        self,
        lb: LoadBalancer,
        listener: Listener,
        have: Listener | None,
        live_lb: LiveLoadBalancer | None,
    ) -> None:
        address = _address(self, lb.name, ResourceKind.LISTENER, listener.label)
        if have is None or live_lb is None:
            self.add(MISSING, address, desired=listener)
            self._rules(lb, listener, None, live_lb)
            return

        live_id = _id_of(live_lb, f"listener:{have.label}")
        extra: list[FieldChange] = []
        if have.protocol != listener.protocol:
            extra.append(
                FieldChange("protocol", str(have.protocol), str(listener.protocol))
            )
        elif have.key not in set(live_lb.running):
            extra.append(FieldChange("running", False, True))
        self.compare_pair(address, listener, have, live_id, tuple(extra))
        self._rules(lb, listener, have if have.key == listener.key else None, live_lb)

    def _rules(
        self,
        lb: LoadBalancer,
        listener: Listener,
        have: Listener | None,
        live_lb: LiveLoadBalancer | None,
    ) -> None:
        live_rules = {rule.name: rule for rule in have.rules} if have else {}
        desired: dict[str, ForwardingRule] = {r.name: r for r in listener.rules}
        moved: dict[str, FieldChange] = {}
        if have is not None and self.target.rule_order_matters:
            moved = _out_of_place(list(desired), [rule.name for rule in have.rules])
        for name in sorted(desired.keys() | live_rules.keys()):
            label = f"{listener.label}/{name}"
            address = _address(self, lb.name, ResourceKind.RULE, label)
            live_id = _id_of(live_lb, f"rule:{label}")
            if name not in live_rules:
                self.add(MISSING, address, desired=desired[name])
            elif name not in desired:
                if self.prune:
                    self.add(
                        UNEXPECTED, address, live=live_rules[name], live_id=live_id
                    )
            else:
                extra = (moved[name],) if name in moved else ()
                self.compare_pair(
                    address, desired[name], live_rules[name], live_id, extra
                )


def _out_of_place(desired: list[str], live: list[str]) -> dict[str, FieldChange]:
    """``position`` changes of the rules whose place differs, by rule name.

    Places count only the rules on both sides, so a rule the spec adds or a
    live rule it does not name shifts no other rule.
    """
    shared = set(desired) & set(live)
    wanted = [name for name in desired if name in shared]
    # A name two live rules carry (tags edited by hand) takes one place.
    held = list(dict.fromkeys(name for name in live if name in shared))
    place = {name: index for index, name in enumerate(held, start=1)}
    return {
        name: FieldChange(RULE_POSITION, place[name], index)
        for index, name in enumerate(wanted, start=1)
        if place[name] != index
    }


def _port_clash(listener: Listener, spare: list[Listener]) -> Listener | None:
    """A live listener holding ``listener``'s port under another protocol.

    UDP shares ports with the others; TCP, HTTP and HTTPS exclude each other.
    """
    is_udp = listener.protocol == Protocol.UDP
    for item in spare:
        if item.port == listener.port and (item.protocol == Protocol.UDP) == is_udp:
            return item
    return None


def _id_of(live_lb: LiveLoadBalancer | None, key: str) -> str | None:
    return live_lb.id_of(key) if live_lb else None
