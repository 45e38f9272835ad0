"""An in-memory target implementing ``targets/base.py``, for core tests.

It keeps live state as spec-model objects, turns differences into one change
per call the way a cloud target would (servers in batches, listeners created
stopped and then started, a protocol change as a replacement), checks the
dependencies a cloud checks (a listener needs its group, ACL and
certificate; a group in use cannot go), and can inject faults: transient
errors, throttling, and lost responses whose call did or did not take effect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    FieldChange,
    ResourceAddress,
    ResourceKind,
    payload_of,
)
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.errors import CloudApiError, TargetError
from slbsync.spec.model import (
    Acl,
    Certificate,
    Listener,
    LoadBalancer,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.spec.plain import to_plain
from slbsync.targets.base import (
    ChangeOutcome,
    LiveAcl,
    LiveCertificate,
    LiveLoadBalancer,
    LiveState,
    Target,
)

K = ResourceKind
MISSING = DifferenceStatus.MISSING
MODIFIED = DifferenceStatus.MODIFIED
UNEXPECTED = DifferenceStatus.UNEXPECTED


class FakeTransientError(CloudApiError):
    def __init__(self, action: str, code: str = "ServiceUnavailable") -> None:
        super().__init__("fake", action, code, "try again", request_id="REQ-1")


class FakeThrottledError(FakeTransientError):
    def __init__(self, action: str) -> None:
        super().__init__(action, "Throttling.User")


class FakeLostResponseError(TargetError):
    """The request was sent; whether it took effect is unknown."""


class FakeRejectedError(CloudApiError):
    def __init__(self, action: str, message: str) -> None:
        super().__init__(
            "fake", action, "InvalidParameter", message, request_id="REQ-9"
        )


@dataclass
class FakeLb:
    id: str
    owned: bool
    spec: LoadBalancer  # attributes, groups and listeners as live
    running: set[tuple[str, int]] = dataclasses.field(default_factory=set)


@dataclass
class Fault:
    action: str  # "*" for any
    error: BaseException
    take_effect: bool = False  # for lost responses: did the call land first?


class FakeTarget(Target):
    type_name: ClassVar[str] = "fake"
    max_servers_per_call: ClassVar[int | None] = 3

    def __init__(self, spec: TargetSpec | None = None) -> None:
        super().__init__(spec or TargetSpec(name="fake", type="fake"))
        self.lbs: dict[str, FakeLb] = {}
        self.acls: dict[str, LiveAcl] = {}
        self.certificates: dict[str, LiveCertificate] = {}
        self.faults: list[Fault] = []
        self.read_failures: list[BaseException] = []  # raised by the next reads
        self.reads_attempted = 0
        self.calls: list[str] = []  # every write attempted, by action
        self.commits = 0
        self._numbers = 0

    # -- test helpers ------------------------------------------------------

    def fail(
        self,
        action: str,
        error: BaseException,
        *,
        times: int = 1,
        take_effect: bool = False,
    ) -> None:
        self.faults.extend(Fault(action, error, take_effect) for _ in range(times))

    def seed(self, lb: LoadBalancer, *, owned: bool = True) -> FakeLb:
        """Put ``lb`` live as it is, all its listeners running."""
        live = FakeLb(self._new_id("lb"), owned, replace(lb, adopt=False))
        live.running = {listener.key for listener in lb.listeners}
        self.lbs[lb.name] = live
        return live

    def seed_acl(self, acl: Acl, *, owned: bool = True) -> None:
        self.acls[acl.name] = LiveAcl(acl, self._new_id("acl"), owned)

    def seed_certificate(self, cert: Certificate, *, owned: bool = True) -> None:
        self.certificates[cert.name] = LiveCertificate(
            cert, self._new_id("cert"), owned
        )

    def _new_id(self, prefix: str) -> str:
        self._numbers += 1
        return f"{prefix}-{self._numbers:04d}"

    # -- reading -----------------------------------------------------------

    def read_live_state(self, spec: Spec) -> LiveState:
        self.reads_attempted += 1
        if self.read_failures:
            raise self.read_failures.pop(0)
        named = {lb.name for lb in spec.load_balancers_on(self.name)}
        lbs = tuple(
            self._live_lb(lb)
            for name, lb in sorted(self.lbs.items())
            if name in named or lb.owned
        )
        reads = (("list", 1), ("listeners", 1), ("group attributes", len(lbs)))
        return LiveState(
            target=self.name,
            load_balancers=lbs,
            acls=tuple(self.acls[name] for name in sorted(self.acls)),
            certificates=tuple(
                self.certificates[name] for name in sorted(self.certificates)
            ),
            reads=reads,
        )

    def _live_lb(self, lb: FakeLb) -> LiveLoadBalancer:
        ids = [("lb", lb.id)]
        ids += [(f"group:{g.name}", f"{lb.id}/{g.name}") for g in lb.spec.server_groups]
        ids += [
            (f"listener:{x.label}", f"{lb.id}/{x.label}") for x in lb.spec.listeners
        ]
        return LiveLoadBalancer(
            spec=lb.spec,
            id=lb.id,
            owned=lb.owned,
            running=tuple(sorted(lb.running)),
            ids=tuple(ids),
        )

    # -- planning ----------------------------------------------------------

    def changes_for(
        self, differences: Sequence[Difference], live: LiveState
    ) -> list[Change]:
        changes: list[Change] = []
        servers: dict[tuple[str, str], list[Difference]] = {}
        for diff in differences:
            if diff.kind == K.SERVERS:
                group = diff.address.name.split("/", 1)[0]
                servers.setdefault((diff.address.load_balancer, group), []).append(diff)
            else:
                changes.extend(self._changes_for_one(diff))
        for (lb, group), diffs in servers.items():
            changes.extend(self._server_batches(lb, group, diffs))
        return changes

    def _changes_for_one(self, diff: Difference) -> list[Change]:
        verb = {MISSING: "Create", MODIFIED: "Set", UNEXPECTED: "Delete"}[diff.status]
        op = {
            MISSING: ChangeOp.CREATE,
            MODIFIED: ChangeOp.UPDATE,
            UNEXPECTED: ChangeOp.DELETE,
        }[diff.status]
        noun = {
            K.LOAD_BALANCER: "LoadBalancer",
            K.SERVER_GROUP: "ServerGroup",
            K.LISTENER: "Listener",
            K.RULE: "Rule",
            K.ACL: "Acl",
            K.CERTIFICATE: "Certificate",
        }[diff.kind]
        fields = diff.fields
        if diff.status == MISSING and diff.kind != K.LOAD_BALANCER:
            fields = tuple(
                FieldChange(name, None, value)
                for name, value in _attributes(diff.desired).items()
                if value not in (None, [], "")
            )
        change = Change(
            op,
            diff.address,
            f"{verb}{noun}",
            fields=fields,
            live_id=diff.live_id,
            payload=payload_of(desired=to_plain(diff.desired)),
        )
        if diff.kind != K.LISTENER:
            return [change]
        return self._listener_changes(diff, change)

    def _listener_changes(self, diff: Difference, change: Change) -> list[Change]:
        state = replace(change.address, kind=K.LISTENER_STATE)
        start = Change(ChangeOp.CREATE, state, "StartListener")
        if diff.status == MISSING:
            return [change, start]
        if diff.status == UNEXPECTED:
            stop = Change(ChangeOp.DELETE, state, "StopListener", live_id=diff.live_id)
            return [stop, change]
        names = diff.field_names()
        if "protocol" in names:
            old = replace(change.address, name=diff.live.label)
            return [
                Change(
                    ChangeOp.DELETE,
                    old,
                    "DeleteListener",
                    replacement=True,
                    live_id=diff.live_id,
                ),
                replace(
                    change,
                    op=ChangeOp.CREATE,
                    action="CreateListener",
                    replacement=True,
                    live_id=None,
                ),
                start,
            ]
        result = []
        if set(names) - {"running"}:
            result.append(
                replace(
                    change, fields=tuple(f for f in diff.fields if f.field != "running")
                )
            )
        if "running" in names:
            result.append(replace(start, op=ChangeOp.UPDATE))
        return result

    def _server_batches(
        self, lb: str, group: str, diffs: list[Difference]
    ) -> list[Change]:
        changes = []
        size = self.max_servers_per_call or len(diffs)
        for status, action, op in (
            (MISSING, "AddServers", ChangeOp.CREATE),
            (MODIFIED, "SetServers", ChangeOp.UPDATE),
            (UNEXPECTED, "RemoveServers", ChangeOp.DELETE),
        ):
            picked = [d for d in diffs if d.status == status]
            for start in range(0, len(picked), size):
                batch = picked[start : start + size]
                servers = [to_plain(d.desired or d.live) for d in batch]
                address = ResourceAddress(self.name, lb, K.SERVERS, group)
                fields = tuple(
                    FieldChange(
                        d.address.name.split("/", 1)[1],
                        _weight(d.live),
                        _weight(d.desired),
                    )
                    for d in batch
                )
                changes.append(
                    Change(
                        op,
                        address,
                        action,
                        fields=fields,
                        live_id=batch[0].live_id,
                        payload=payload_of(servers=servers),
                    )
                )
        return changes

    # -- applying ----------------------------------------------------------

    def apply_change(self, change: Change) -> ChangeOutcome:
        self.calls.append(change.action)
        fault = self._next_fault(change.action)
        if fault is not None:
            if fault.take_effect:
                self._carry_out(change)
            raise fault.error
        return self._carry_out(change)

    def commit(self) -> None:
        self.commits += 1

    def is_transient(self, error: BaseException) -> bool:
        return isinstance(error, FakeTransientError)

    def is_throttling(self, error: BaseException) -> bool:
        return isinstance(error, FakeThrottledError)

    def is_outcome_unknown(self, error: BaseException) -> bool:
        return isinstance(error, FakeLostResponseError)

    def has_taken_effect(self, change: Change) -> bool:
        kind, name = change.address.kind, change.address.name
        lb = self.lbs.get(change.address.load_balancer)
        if kind == K.LOAD_BALANCER:
            exists = name in self.lbs
            return exists if change.op != ChangeOp.DELETE else not exists
        if kind == K.SERVERS and lb is not None:
            group = lb.spec.server_group(name)
            keys = {s.key for s in group.servers} if group else set()
            wanted = [_server(s) for s in change.get("servers", [])]
            if change.op == ChangeOp.DELETE:
                return all(s.key not in keys for s in wanted)
            live = group.servers_by_key() if group else {}
            return all(live.get(s.key) == s for s in wanted)
        raise NotImplementedError(f"fake cannot settle {change.action}")

    def _next_fault(self, action: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.action in ("*", action):
                return self.faults.pop(index)
        return None

    def _carry_out(self, change: Change) -> ChangeOutcome:
        kind = change.address.kind
        if kind in (K.ACL, K.CERTIFICATE):
            return self._regional(change)
        if kind == K.LOAD_BALANCER:
            return self._load_balancer(change)
        lb = self.lbs.get(change.address.load_balancer)
        if lb is None:
            raise FakeRejectedError(change.action, "no such load balancer")
        handler = {
            K.SERVER_GROUP: self._group,
            K.SERVERS: self._servers,
            K.LISTENER: self._listener,
            K.LISTENER_STATE: self._state,
            K.RULE: self._rule,
        }[kind]
        handler(lb, change)
        return ChangeOutcome(change)

    def _regional(self, change: Change) -> ChangeOutcome:
        name = change.address.name
        if change.address.kind == K.ACL:
            table: dict[str, Any] = self.acls
            in_use = any(
                x.acl and x.acl.acl == name
                for lb in self.lbs.values()
                for x in lb.spec.listeners
            )
        else:
            table = self.certificates
            in_use = any(
                name in (x.certificate, x.ca_certificate)
                for lb in self.lbs.values()
                for x in lb.spec.listeners
            )
        if change.op == ChangeOp.DELETE:
            if in_use:
                raise FakeRejectedError(change.action, f"{name} is in use")
            del table[name]
            return ChangeOutcome(change)
        desired = self._desired(change)
        if change.address.kind == K.ACL:
            acl = _acl(desired)
            old = self.acls.get(name)
            self.acls[name] = LiveAcl(acl, old.id if old else self._new_id("acl"), True)
        else:
            cert = _certificate(desired)
            old_cert = self.certificates.get(name)
            new_id = old_cert.id if old_cert else self._new_id("cert")
            self.certificates[name] = LiveCertificate(cert, new_id, True)
        return ChangeOutcome(change)

    def _load_balancer(self, change: Change) -> ChangeOutcome:
        name = change.address.name
        if change.op == ChangeOp.DELETE:
            if self.lbs[name].spec.deletion_protection:
                raise FakeRejectedError(change.action, "deletion protection is on")
            del self.lbs[name]
            return ChangeOutcome(change)
        attributes = _lb_attributes(self._desired(change))
        if change.op == ChangeOp.CREATE:
            if name in self.lbs:
                raise FakeRejectedError(change.action, f"{name} exists (duplicate)")
            lb = FakeLb(self._new_id("lb"), True, LoadBalancer(**attributes))
            self.lbs[name] = lb
            return ChangeOutcome(change, created_id=lb.id)
        lb = self.lbs[name]
        lb.owned = True
        lb.spec = replace(lb.spec, **attributes)
        return ChangeOutcome(change)

    def _group(self, lb: FakeLb, change: Change) -> None:
        name = change.address.name
        groups = {g.name: g for g in lb.spec.server_groups}
        if change.op == ChangeOp.DELETE:
            users = [x.label for x in lb.spec.listeners if x.server_group == name]
            users += [
                r.name
                for x in lb.spec.listeners
                for r in x.rules
                if r.server_group == name
            ]
            if users:
                raise FakeRejectedError(change.action, f"{name} is used by {users}")
            del groups[name]
        else:
            desired = self._desired(change)
            old = groups.get(name)
            if change.op == ChangeOp.CREATE and old is not None:
                raise FakeRejectedError(change.action, f"group {name} exists")
            groups[name] = ServerGroup(
                name=name,
                servers=old.servers if old else (),
                tags=_tags(desired["tags"]),
            )
        lb.spec = replace(lb.spec, server_groups=tuple(groups.values()))

    def _servers(self, lb: FakeLb, change: Change) -> None:
        group = lb.spec.server_group(change.address.name)
        if group is None:
            raise FakeRejectedError(change.action, "no such group")
        members = group.servers_by_key()
        for server in (_server(item) for item in change.get("servers")):
            if change.op == ChangeOp.DELETE:
                members.pop(server.key, None)
            else:
                members[server.key] = server
        new_group = replace(group, servers=tuple(members.values()))
        lb.spec = replace(
            lb.spec,
            server_groups=tuple(
                new_group if g.name == group.name else g for g in lb.spec.server_groups
            ),
        )

    def _listener(self, lb: FakeLb, change: Change) -> None:
        listeners = {x.label: x for x in lb.spec.listeners}
        name = change.address.name
        if change.op == ChangeOp.DELETE:
            key = listeners.pop(name).key
            lb.running.discard(key)
        else:
            listener = _listener(self._desired(change))
            if change.op == ChangeOp.CREATE and any(
                x.port == listener.port
                and (x.protocol == "udp") == (listener.protocol == "udp")
                for x in listeners.values()
            ):
                raise FakeRejectedError(change.action, "port in use")
            self._check_references(lb, listener, change.action)
            old = listeners.get(name)
            listeners[name] = replace(listener, rules=old.rules if old else ())
        lb.spec = replace(lb.spec, listeners=tuple(listeners.values()))

    def _check_references(self, lb: FakeLb, listener: Listener, action: str) -> None:
        if (
            listener.server_group
            and lb.spec.server_group(listener.server_group) is None
        ):
            raise FakeRejectedError(action, f"no group {listener.server_group}")
        if listener.acl and listener.acl.acl not in self.acls:
            raise FakeRejectedError(action, f"no ACL {listener.acl.acl}")
        for cert in (listener.certificate, listener.ca_certificate):
            if cert and cert not in self.certificates:
                raise FakeRejectedError(action, f"no certificate {cert}")

    def _state(self, lb: FakeLb, change: Change) -> None:
        listener = next(x for x in lb.spec.listeners if x.label == change.address.name)
        if change.op == ChangeOp.DELETE:
            lb.running.discard(listener.key)
        else:
            lb.running.add(listener.key)

    def _rule(self, lb: FakeLb, change: Change) -> None:
        label, _, rule_name = change.address.name.rpartition("/")
        listener = next(x for x in lb.spec.listeners if x.label == label)
        rules = {r.name: r for r in listener.rules}
        if change.op == ChangeOp.DELETE:
            del rules[rule_name]
        else:
            from slbsync.spec.model import ForwardingRule

            rule = ForwardingRule(**self._desired(change))
            if lb.spec.server_group(rule.server_group) is None:
                raise FakeRejectedError(change.action, "no such group")
            rules[rule_name] = rule
        new = replace(listener, rules=tuple(rules.values()))
        lb.spec = replace(
            lb.spec,
            listeners=tuple(new if x.label == label else x for x in lb.spec.listeners),
        )

    @staticmethod
    def _desired(change: Change) -> dict[str, Any]:
        desired: dict[str, Any] = change.get("desired")
        return desired


def _attributes(value: Any) -> dict[str, Any]:
    from slbsync.diff.compare import flatten

    skip = {"servers", "rules", "listeners", "server_groups", "discover"}
    return {k: v for k, v in flatten(value).items() if k.split(".")[0] not in skip}


def _weight(server: Server | None) -> int | None:
    return server.weight if server else None


def _tags(raw: list[list[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((key, value) for key, value in raw)


def _server(raw: dict[str, Any]) -> Server:
    return Server(**raw)


def _lb_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    skip = {"server_groups", "listeners", "adopt"}
    values = {k: v for k, v in raw.items() if k not in skip}
    values["tags"] = _tags(values["tags"])
    return values


def _acl(raw: dict[str, Any]) -> Acl:
    from slbsync.spec.model import AclEntry

    entries = tuple(AclEntry(**entry) for entry in raw["entries"])
    return Acl(**{**raw, "entries": entries, "tags": _tags(raw["tags"])})


def _certificate(raw: dict[str, Any]) -> Certificate:
    return Certificate(**raw)


def _listener(raw: dict[str, Any]) -> Listener:
    from slbsync.spec.model import (
        AclBinding,
        HealthCheck,
        StickySession,
        XForwardedFor,
    )

    values = dict(raw)
    check = dict(values["health_check"])
    check["http_codes"] = tuple(check["http_codes"])
    values["health_check"] = HealthCheck(**check)
    values["acl"] = AclBinding(**values["acl"]) if values["acl"] else None
    if values["sticky_session"]:
        values["sticky_session"] = StickySession(**values["sticky_session"])
    if values["x_forwarded_for"]:
        values["x_forwarded_for"] = XForwardedFor(**values["x_forwarded_for"])
    values["rules"] = ()
    return Listener(**values)


# -- spec builders for tests ------------------------------------------------


def make_spec(
    *lbs: LoadBalancer,
    acls: tuple[Acl, ...] = (),
    certificates: tuple[Certificate, ...] = (),
) -> Spec:
    """A spec with one ``fake`` target holding ``lbs``."""
    return Spec(
        targets=(TargetSpec(name="fake", type="fake"),),
        load_balancers=lbs,
        acls=acls,
        certificates=certificates,
    )


def make_lb(name: str = "chat", *, servers: int = 2, **values: Any) -> LoadBalancer:
    """A load balancer with group ``ws`` of ``servers`` servers and tcp/443."""
    from slbsync.spec.model import Protocol

    group = ServerGroup(
        name="ws",
        servers=tuple(Server(port=8080, id=f"i-{n:03d}") for n in range(servers)),
    )
    listener = Listener(protocol=Protocol.TCP, port=443, server_group="ws")
    defaults: dict[str, Any] = {
        "target": "fake",
        "server_groups": (group,),
        "listeners": (listener,),
    }
    return LoadBalancer(name=name, **{**defaults, **values})
