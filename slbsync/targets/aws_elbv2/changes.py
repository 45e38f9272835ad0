"""Differences to changes: one Elastic Load Balancing call each.

A listener's health check, scheduler, drain, stickiness and PROXY protocol
live on its target group on AWS (see ``mapping``), so a listener difference
in those fields becomes ``ModifyTargetGroup``/``ModifyTargetGroupAttributes``
on the group it forwards to. Members are registered and deregistered in
batches. What AWS cannot do (change a load balancer's scheme or type, or a
target group's port) is collected and raised as one ``PlanError``.

Ids of resources created in the same run are references
(``{"$ref": "lb:chat"}``) that the applier resolves by name.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    FieldChange,
    ResourceAddress,
    ResourceKind,
)
from slbsync.diff.changes import (
    call_change as change,
)
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.errors import PlanError
from slbsync.spec.model import Listener, LoadBalancer, Server, ServerGroup
from slbsync.spec.plain import to_plain
from slbsync.targets.aws_elbv2.calls import ref
from slbsync.targets.aws_elbv2.mapping import (
    APPLICATION,
    IP_ADDRESS_TYPE,
    SCHEME,
    TARGET_PROTOCOL,
    GroupSettings,
    attribute_params,
    health_params,
    settings_of,
    target_type,
)
from slbsync.targets.aws_elbv2.names import (
    group_tags,
    owned_tags,
    tag_list,
    target_group_name,
)
from slbsync.targets.aws_elbv2.read import Catalogue
from slbsync.targets.aws_elbv2.rule_changes import RulePlanner
from slbsync.targets.base import OWNER_TAG, LiveState

log = logging.getLogger(__name__)

MISSING = DifferenceStatus.MISSING
MODIFIED = DifferenceStatus.MODIFIED
UNEXPECTED = DifferenceStatus.UNEXPECTED

TARGETS_PER_CALL = 50
"""Targets per RegisterTargets/DeregisterTargets call; AWS documents no limit,
so a batch stays small enough that one failure is easy to read."""

SETTINGS_FIELDS = (
    "health_check",
    "scheduler",
    "connection_drain",
    "sticky_session",
    "proxy_protocol",
)
FIXED_LB_FIELDS = ("address_type", "type")


@dataclass
class Planner:
    """One plan's changes for one target."""

    target: str
    owner: str
    catalogue: Catalogue
    live: LiveState
    refusals: list[str] = field(default_factory=list)
    touched_groups: set[tuple[str, str]] = field(default_factory=set)

    def build(self, differences: Sequence[Difference]) -> list[Change]:
        by_kind: dict[ResourceKind, list[Difference]] = {}
        for diff in differences:
            by_kind.setdefault(diff.kind, []).append(diff)
        gone = {
            d.address.load_balancer
            for d in by_kind.get(ResourceKind.LOAD_BALANCER, [])
            if d.status == UNEXPECTED
        }

        def kept(kind: ResourceKind) -> list[Difference]:
            return [
                d for d in by_kind.get(kind, []) if d.address.load_balancer not in gone
            ]

        steps: list[Change] = []
        for diff in by_kind.get(ResourceKind.LOAD_BALANCER, []):
            steps += self.load_balancer(diff)
        created_groups = set()
        for diff in kept(ResourceKind.SERVER_GROUP):
            steps += self.server_group(diff)
            if diff.status == MISSING:
                created_groups.add((diff.address.load_balancer, diff.address.name))
        steps += self.servers(kept(ResourceKind.SERVERS))
        for diff in kept(ResourceKind.LISTENER):
            steps += self.listener(diff, created_groups)
        rules = RulePlanner(self.target, self.owner, self.catalogue)
        steps += rules.build(by_kind.get(ResourceKind.RULE, []), gone)
        self.refusals += rules.refusals
        for kind in (ResourceKind.ACL, ResourceKind.CERTIFICATE):
            for diff in by_kind.get(kind, []):
                self.refuse(diff.address, "not supported on aws-elbv2")
        if self.refusals:
            problems = "\n  ".join(self.refusals)
            raise PlanError(
                f"target {self.target}: the plan asks for what AWS cannot do:\n  {problems}"  # noqa: E501
            )
        return steps

    # -- helpers --

    def refuse(self, address: ResourceAddress, message: str) -> None:
        self.refusals.append(f"{address}: {message}")

    def address(self, lb: str, kind: ResourceKind, name: str) -> ResourceAddress:
        return ResourceAddress(self.target, lb, kind, name)

    def lb_arn(self, name: str) -> Any:
        return self.catalogue.lb_arns.get(name) or ref("lb", name)

    def group_arn(self, lb: str, group: str) -> Any:
        facts = self.catalogue.groups.get((lb, group))
        return facts.arn if facts else ref("group", lb, group)

    def kind_of(self, lb: str) -> str:
        desired = self.catalogue.desired.get(lb)
        if desired is not None and desired.type:
            return desired.type
        return self.catalogue.kinds.get(lb, APPLICATION)

    # -- load balancers --

    def load_balancer(self, diff: Difference) -> list[Change]:
        if diff.status == MISSING:
            return self._create_load_balancer(diff)
        if diff.status == UNEXPECTED:
            return self._delete_load_balancer(diff)
        return self._update_load_balancer(diff)

    def _create_load_balancer(self, diff: Difference) -> list[Change]:
        lb: LoadBalancer = diff.desired
        params: dict[str, Any] = {
            "Name": lb.name,
            "Subnets": list(lb.subnets),
            "Scheme": SCHEME[lb.address_type],
            "Type": lb.type,
            "IpAddressType": IP_ADDRESS_TYPE[lb.address_ip_version],
            "Tags": owned_tags(self.owner, lb.tags),
        }
        if lb.security_groups:
            params["SecurityGroups"] = list(lb.security_groups)
        fields = [
            FieldChange(name, None, to_plain(getattr(lb, name)))
            for name in ("type", "address_type", "subnets", "security_groups", "tags")
            if getattr(lb, name) not in (None, ())
        ]
        steps = [
            change(
                ChangeOp.CREATE,
                diff.address,
                "CreateLoadBalancer",
                params,
                fields=fields,
                lb=lb.name,
                note="tagged as owned in the create call",
            )
        ]
        if lb.deletion_protection:
            steps.append(self._protection(diff, lb.name, True, None))
        return steps

    def _protection(
        self, diff: Difference, lb: str, on: bool, old: bool | None
    ) -> Change:
        return change(
            ChangeOp.UPDATE,
            diff.address,
            "ModifyLoadBalancerAttributes",
            {
                "LoadBalancerArn": self.lb_arn(lb),
                "Attributes": [
                    {"Key": "deletion_protection.enabled", "Value": _flag(on)}
                ],
            },
            fields=[FieldChange("deletion_protection", old, on)],
            live_id=diff.live_id,
            lb=lb,
        )

    def _delete_load_balancer(self, diff: Difference) -> list[Change]:
        lb: LoadBalancer = diff.live
        if lb.deletion_protection:
            self.refuse(
                diff.address,
                f"deletion protection is on for {diff.live_id}; set deletion_protection: false in the spec, apply, then remove it",  # noqa: E501
            )
            return []
        # Listeners go first (reverse rank), then owned groups, the load
        # balancer last; target groups outlive their load balancer on AWS.
        steps = [
            self._delete_listener(lb.name, listener, None) for listener in lb.listeners
        ]
        steps.append(
            change(
                ChangeOp.DELETE,
                diff.address,
                "DeleteLoadBalancer",
                {"LoadBalancerArn": diff.live_id},
                fields=[FieldChange("name", lb.name, None)],
                live_id=diff.live_id,
                lb=lb.name,
            )
        )
        for group in lb.server_groups:
            facts = self.catalogue.groups.get((lb.name, group.name))
            if facts is not None and facts.owned:
                steps.append(self._delete_group(lb.name, group.name, facts.arn))
        return steps

    def _update_load_balancer(self, diff: Difference) -> list[Change]:
        want: LoadBalancer = diff.desired
        have: LoadBalancer = diff.live
        names = {f.field: f for f in diff.fields}
        fixed = [name for name in FIXED_LB_FIELDS if name in names]
        if fixed:
            moves = ", ".join(
                f"{n} {names[n].old!r} -> {names[n].new!r}" for n in fixed
            )
            self.refuse(
                diff.address,
                f"{moves} cannot change on a live load balancer; create one under another name and move traffic (slbsync never deletes a load balancer to change it)",  # noqa: E501
            )
            return []
        arn = diff.live_id
        steps: list[Change] = []
        if "owned" in names:
            steps.append(
                self._tags(diff, arn, [(OWNER_TAG, self.owner)], [names["owned"]])
            )
        if "deletion_protection" in names:
            steps.append(
                self._protection(
                    diff, want.name, want.deletion_protection, have.deletion_protection
                )
            )
        simple = (
            ("subnets", "SetSubnets", {"Subnets": list(want.subnets)}),
            (
                "security_groups",
                "SetSecurityGroups",
                {"SecurityGroups": list(want.security_groups)},
            ),
            (
                "address_ip_version",
                "SetIpAddressType",
                {"IpAddressType": IP_ADDRESS_TYPE[want.address_ip_version]},
            ),
        )
        for name, action, params in simple:
            if name in names:
                steps.append(
                    change(
                        ChangeOp.UPDATE,
                        diff.address,
                        action,
                        {"LoadBalancerArn": arn, **params},
                        fields=[names[name]],
                        live_id=arn,
                        lb=want.name,
                    )
                )
        if "tags" in names:
            steps += self._tag_changes(diff, arn, have.tags, want.tags, names["tags"])
        return steps

    def _tags(
        self,
        diff: Difference,
        arn: Any,
        pairs: list[tuple[str, str]],
        fields: list[FieldChange],
    ) -> Change:
        return change(
            ChangeOp.UPDATE,
            diff.address,
            "AddTags",
            {"ResourceArns": [arn], "Tags": tag_list(pairs)},
            fields=fields,
            live_id=diff.live_id,
            lb=diff.address.load_balancer,
        )

    def _tag_changes(
        self,
        diff: Difference,
        arn: Any,
        have: Sequence[tuple[str, str]],
        want: Sequence[tuple[str, str]],
        field_change: FieldChange,
    ) -> list[Change]:
        old, new = dict(have), dict(want)
        added = sorted((k, v) for k, v in new.items() if old.get(k) != v)
        dropped = sorted(k for k in old if k not in new)
        steps = []
        if added:
            steps.append(self._tags(diff, arn, added, [field_change]))
        if dropped:
            steps.append(
                change(
                    ChangeOp.UPDATE,
                    diff.address,
                    "RemoveTags",
                    {"ResourceArns": [arn], "TagKeys": dropped},
                    fields=[] if added else [field_change],
                    live_id=diff.live_id,
                    lb=diff.address.load_balancer,
                )
            )
        return steps

    # -- target groups --

    def server_group(self, diff: Difference) -> list[Change]:
        lb = diff.address.load_balancer
        if diff.status == MISSING:
            return self._create_group(diff, lb, diff.desired)
        if diff.status == UNEXPECTED:
            facts = self.catalogue.groups.get((lb, diff.address.name))
            if facts is None or not facts.owned:
                return []  # not ours: slbsync never deletes it
            return [self._delete_group(lb, diff.address.name, facts.arn)]
        names = {f.field: f for f in diff.fields}
        if "tags" not in names:
            return []
        have: ServerGroup = diff.live
        want: ServerGroup = diff.desired
        return self._tag_changes(
            diff, diff.live_id, have.tags, want.tags, names["tags"]
        )

    def _users(self, lb: str, group: str) -> list[Listener]:
        desired = self.catalogue.desired.get(lb)
        if desired is None:
            return []
        return [item for item in desired.listeners if item.server_group == group]

    def _create_group(
        self, diff: Difference, lb: str, group: ServerGroup
    ) -> list[Change]:
        kind = self.kind_of(lb)
        users = self._users(lb, group.name)
        first = users[0] if users else None
        default_protocol = "HTTP" if kind == APPLICATION else "TCP"
        port = _group_port(group, first)
        params: dict[str, Any] = {
            "Name": target_group_name(lb, group.name),
            "Protocol": TARGET_PROTOCOL[first.protocol] if first else default_protocol,
            "Port": port,
            "VpcId": self.catalogue.vpcs.get(lb) or ref("vpc", lb),
            "TargetType": target_type(group),
            "Tags": group_tags(self.owner, lb, group.name, group.tags),
        }
        if first is not None:
            params.update(health_params(first.health_check))
        steps = [
            change(
                ChangeOp.CREATE,
                diff.address,
                "CreateTargetGroup",
                params,
                fields=[
                    FieldChange("name", None, params["Name"]),
                    FieldChange("port", None, port),
                    FieldChange("target_type", None, params["TargetType"]),
                ],
                lb=lb,
                group=group.name,
                note=f"named {params['Name']} on AWS",
            )
        ]
        if first is not None:
            self.touched_groups.add((lb, group.name))
            steps.append(
                self._attributes(diff.address, lb, group.name, settings_of(first), [])
            )
        return steps

    def _attributes(
        self,
        address: ResourceAddress,
        lb: str,
        group: str,
        settings: GroupSettings,
        fields: list[FieldChange],
    ) -> Change:
        return change(
            ChangeOp.UPDATE,
            address,
            "ModifyTargetGroupAttributes",
            {
                "TargetGroupArn": self.group_arn(lb, group),
                "Attributes": attribute_params(settings, self.kind_of(lb)),
            },
            fields=fields,
            lb=lb,
            group=group,
        )

    def _delete_group(self, lb: str, group: str, arn: str) -> Change:
        return change(
            ChangeOp.DELETE,
            self.address(lb, ResourceKind.SERVER_GROUP, group),
            "DeleteTargetGroup",
            {"TargetGroupArn": arn},
            fields=[FieldChange("name", group, None)],
            live_id=arn,
            lb=lb,
            group=group,
        )

    # -- members --

    def servers(self, diffs: Sequence[Difference]) -> list[Change]:
        per_group: dict[tuple[str, str], list[Difference]] = {}
        for diff in diffs:
            group = diff.address.name.split("/", 1)[0]
            per_group.setdefault((diff.address.load_balancer, group), []).append(diff)
        steps: list[Change] = []
        for (lb, group), items in sorted(per_group.items()):
            steps += self._members(lb, group, items)
        return steps

    def _members(
        self, lb: str, group: str, diffs: Sequence[Difference]
    ) -> list[Change]:
        """Registers first, then deregistrations, so capacity never dips."""
        adds: list[Server] = []
        removes: list[Server] = []
        for diff in diffs:
            if diff.status == MISSING and diff.desired.weight > 0:
                adds.append(diff.desired)
            elif diff.status == UNEXPECTED and diff.live.weight > 0:
                # A live weight 0 is a target already draining: nothing to do.
                removes.append(diff.live)
            elif diff.status == MODIFIED:
                if diff.live.weight == 0 and diff.desired.weight > 0:
                    adds.append(diff.desired)
                elif diff.live.weight > 0 and diff.desired.weight == 0:
                    removes.append(diff.live)  # deregistering starts the drain
                elif "weight" in diff.field_names():
                    # register --weight or --slow-start: AWS has no weights.
                    log.warning(
                        "plan: target=%s server=%s weight %s -> %s has no effect: "
                        "aws-elbv2 targets have no weight",
                        self.target,
                        diff.address.name,
                        diff.live.weight,
                        diff.desired.weight,
                    )
        group_arn = next((d.live_id for d in diffs if d.live_id), None)
        arn = group_arn or self.group_arn(lb, group)
        address = self.address(lb, ResourceKind.SERVERS, group)
        steps = []
        for action, servers, op in (
            ("RegisterTargets", adds, ChangeOp.CREATE),
            ("DeregisterTargets", removes, ChangeOp.DELETE),
        ):
            for i in range(0, len(servers), TARGETS_PER_CALL):
                chunk = servers[i : i + TARGETS_PER_CALL]
                adding = op == ChangeOp.CREATE
                steps.append(
                    change(
                        op,
                        address,
                        action,
                        {"TargetGroupArn": arn, "Targets": [_target(s) for s in chunk]},
                        fields=[
                            FieldChange(
                                s.label,
                                None if adding else _server_json(s),
                                _server_json(s) if adding else None,
                            )
                            for s in chunk
                        ],
                        live_id=group_arn,
                        lb=lb,
                        group=group,
                        note="" if adding else "drains for the deregistration delay",
                    )
                )
        return steps

    # -- listeners --

    def listener(
        self, diff: Difference, created_groups: set[tuple[str, str]]
    ) -> list[Change]:
        lb = diff.address.load_balancer
        if diff.status == UNEXPECTED:
            return [self._delete_listener(lb, diff.live, diff.live_id)]
        want: Listener = diff.desired
        steps: list[Change] = []
        if diff.status == MISSING:
            steps.append(self._create_listener(diff, lb, want))
        else:
            steps += self._update_listener(diff, lb, want)
        group = want.server_group
        if group is not None and (lb, group) not in created_groups:
            steps += self._group_settings(diff, lb, want)
        return steps

    def _actions(self, lb: str, listener: Listener) -> list[dict[str, Any]]:
        if listener.redirect_to_port is not None:
            return [
                {
                    "Type": "redirect",
                    "RedirectConfig": {
                        "Protocol": "HTTPS",
                        "Port": str(listener.redirect_to_port),
                        "StatusCode": "HTTP_301",
                    },
                }
            ]
        assert listener.server_group is not None
        return [
            {
                "Type": "forward",
                "TargetGroupArn": self.group_arn(lb, listener.server_group),
            }
        ]

    def _create_listener(self, diff: Difference, lb: str, want: Listener) -> Change:
        params: dict[str, Any] = {
            "LoadBalancerArn": self.lb_arn(lb),
            "Protocol": str(want.protocol).upper(),
            "Port": want.port,
            "DefaultActions": self._actions(lb, want),
            "Tags": owned_tags(self.owner, ()),
        }
        if want.certificate:
            params["Certificates"] = [{"CertificateArn": want.certificate}]
        target = want.server_group or f"redirect to {want.redirect_to_port}"
        return change(
            ChangeOp.CREATE,
            diff.address,
            "CreateListener",
            params,
            fields=[FieldChange("server_group", None, target)],
            lb=lb,
            listener=want.label,
        )

    def _update_listener(
        self, diff: Difference, lb: str, want: Listener
    ) -> list[Change]:
        names = {f.field: f for f in diff.fields}
        if "backend_port" in names:
            self.refuse(
                diff.address,
                "backend_port is the target group's port, which AWS fixes at creation; give the server group a new name so slbsync creates a new target group",  # noqa: E501
            )
        listener_fields = [
            names[n]
            for n in ("protocol", "server_group", "redirect_to_port", "certificate")
            if n in names
        ]
        if not listener_fields:
            return []
        params: dict[str, Any] = {
            "ListenerArn": diff.live_id,
            "Protocol": str(want.protocol).upper(),
            "Port": want.port,
            "DefaultActions": self._actions(lb, want),
        }
        if want.certificate:
            params["Certificates"] = [{"CertificateArn": want.certificate}]
        return [
            change(
                ChangeOp.UPDATE,
                diff.address,
                "ModifyListener",
                params,
                fields=listener_fields,
                live_id=diff.live_id,
                lb=lb,
                listener=want.label,
            )
        ]

    def _group_settings(
        self, diff: Difference, lb: str, want: Listener
    ) -> list[Change]:
        """Put the listener's settings on the existing group it forwards to."""
        group = want.server_group
        assert group is not None
        if (lb, group) in self.touched_groups:
            return []  # a listener sharing the group asked the same already
        facts = self.catalogue.groups.get((lb, group))
        if facts is None:
            return []
        self.touched_groups.add((lb, group))
        desired = settings_of(want)
        address = self.address(lb, ResourceKind.LISTENER, want.label)
        fields = [f for f in diff.fields if f.field.split(".")[0] in SETTINGS_FIELDS]
        health_fields = [f for f in fields if f.field.startswith("health_check")]
        other_fields = [f for f in fields if not f.field.startswith("health_check")]
        same_group = diff.status == MODIFIED and "server_group" not in {
            f.field for f in diff.fields
        }
        if same_group:
            # The diff compared this very group's settings already.
            health_differs, attributes_differ = bool(health_fields), bool(other_fields)
        else:
            live = _masked(facts.settings(want.protocol, self.kind_of(lb)), desired)
            health_differs = desired.health_check != live.health_check
            attributes_differ = _attributes_differ(desired, live)
        steps = []
        if health_differs:
            steps.append(
                change(
                    ChangeOp.UPDATE,
                    address,
                    "ModifyTargetGroup",
                    {
                        "TargetGroupArn": facts.arn,
                        **_modifiable(health_params(desired.health_check)),
                    },
                    fields=health_fields
                    or [
                        FieldChange(
                            "health_check", None, to_plain(desired.health_check)
                        )
                    ],
                    live_id=facts.arn,
                    lb=lb,
                    group=group,
                )
            )
        if attributes_differ:
            steps.append(self._attributes(address, lb, group, desired, other_fields))
        return steps

    def _delete_listener(self, lb: str, listener: Listener, arn: str | None) -> Change:
        live_id = arn or self.catalogue.listeners.get((lb, listener.label))
        return change(
            ChangeOp.DELETE,
            self.address(lb, ResourceKind.LISTENER, listener.label),
            "DeleteListener",
            {"ListenerArn": live_id},
            fields=[FieldChange("port", listener.port, None)],
            live_id=live_id,
            lb=lb,
            listener=listener.label,
        )


def _flag(on: bool) -> str:
    return "true" if on else "false"


def _target(server: Server) -> dict[str, Any]:
    return {"Id": server.id or server.address, "Port": server.port}


def _server_json(server: Server) -> dict[str, Any]:
    return {"port": server.port, "weight": server.weight}


def _group_port(group: ServerGroup, listener: Listener | None) -> int:
    """The target group's default port: backend_port, a member's, or the listener's."""
    if listener is not None and listener.backend_port:
        return listener.backend_port
    if group.servers:
        return group.servers[0].port
    if group.discover is not None:
        return group.discover.port
    return listener.port if listener is not None else 80


def _modifiable(params: dict[str, Any]) -> dict[str, Any]:
    # ModifyTargetGroup takes the health check knobs only.
    return {k: v for k, v in params.items() if k.startswith(("Health", "Matcher"))} | {
        k: v for k, v in params.items() if k.endswith("ThresholdCount")
    }


def _masked(live: GroupSettings, desired: GroupSettings) -> GroupSettings:
    """Live settings with what the spec leaves unset blanked, as the reader does."""
    check = live.health_check
    if desired.health_check.path is None and check.path == "/":
        live = replace(live, health_check=replace(check, path=None))
    sticky = live.sticky_session
    want = desired.sticky_session
    if sticky is not None and want is not None and want.cookie_timeout is None:
        live = replace(live, sticky_session=replace(sticky, cookie_timeout=None))
    return live


def _attributes_differ(desired: GroupSettings, live: GroupSettings) -> bool:
    ours = (desired.scheduler, desired.sticky_session, desired.proxy_protocol)
    theirs = (live.scheduler, live.sticky_session, live.proxy_protocol)
    drain_differs = desired.drain is not None and desired.drain != (live.drain or 0)
    return ours != theirs or drain_differs
