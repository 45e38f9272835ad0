"""Read the live state a spec names, with few calls.

ELBv2 has no tag filter of its own, so owned resources are found with the
Resource Groups Tagging API:

1. ``GetResources`` by the ownership tag (100 a page): owned load balancers
   and target groups with their tags. ``DescribeLoadBalancers`` by the
   spec's names (20 a call; a call with a name that does not exist yet
   fails whole, and then the region is listed instead, 400 a page) and by
   the ARNs of owned load balancers the spec no longer names (for
   ``--prune``); ``DescribeTags`` (20 a call) for named ones not owned.
2. Per load balancer in scope: ``DescribeListeners`` and
   ``DescribeLoadBalancerAttributes``; then ``DescribeRules`` for each HTTP
   or HTTPS listener on a port where the spec has rules, or of an owned load
   balancer (every listener when importing), and ``DescribeTags`` for 20
   of those rules a call (their names).
3. ``DescribeTargetGroups`` (paged), ``DescribeTags`` for 20 target groups a
   call for groups not owned (those attached to a load balancer in scope or
   named after a spec group; owned ones tagged for a load balancer in scope
   count too, attached or not), then per group ``DescribeTargetHealth``
   (its members) and ``DescribeTargetGroupAttributes``.

Rounds 2 and 3 run concurrently under ``read_concurrency``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, TypeVar

from slbsync.spec.model import (
    ForwardingRule,
    Listener,
    LoadBalancer,
    Membership,
    Protocol,
    Server,
    ServerGroup,
    ServerType,
    Spec,
)
from slbsync.targets.aws_elbv2.client import PAGE_SIZE, ElbClient
from slbsync.targets.aws_elbv2.errors import ElbApiError
from slbsync.targets.aws_elbv2.mapping import (
    ADDRESS_TYPE,
    IP_VERSION,
    GroupSettings,
    normalise_load_balancer,
    settings_from,
    with_settings,
)
from slbsync.targets.aws_elbv2.names import (
    GROUP_TAG,
    LB_TAG,
    RULE_TAG,
    spec_tags,
    target_group_name,
)
from slbsync.targets.aws_elbv2.rules import RuleFacts, rule_from
from slbsync.targets.base import OWNER_TAG, LiveLoadBalancer, LiveState

log = logging.getLogger(__name__)

TAGS_PER_CALL = 20
NAMES_PER_CALL = 20
ARNS_PER_CALL = 20
OWNED_TYPES = ["elasticloadbalancing:loadbalancer", "elasticloadbalancing:targetgroup"]
RULES_PAGE = 400
RULE_PROTOCOLS = ("HTTP", "HTTPS")
T = TypeVar("T")
RawRules = dict[str, list[tuple[dict[str, Any], dict[str, str]]]]
"""Per listener ARN: its rules but the default one, with their tags."""


@dataclass
class TargetGroupFacts:
    """What the planner needs of one live target group."""

    arn: str
    name: str
    port: int
    protocol: str
    target_type: str
    raw: dict[str, Any]
    attributes: dict[str, str]
    owned: bool = False

    def settings(self, protocol: Protocol, kind: str) -> GroupSettings:
        return settings_from(self.raw, self.attributes, protocol, kind)


@dataclass
class Catalogue:
    """Ids and facts from the last read (and the creates since)."""

    lb_arns: dict[str, str] = field(default_factory=dict)
    vpcs: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    groups: dict[tuple[str, str], TargetGroupFacts] = field(default_factory=dict)
    listeners: dict[tuple[str, str], str] = field(default_factory=dict)
    rules: dict[tuple[str, str], list[RuleFacts]] = field(default_factory=dict)
    desired: dict[str, LoadBalancer] = field(default_factory=dict)


class LiveReader:
    """One read of the live state for one spec."""

    def __init__(
        self,
        client: ElbClient,
        target: str,
        owner: str,
        concurrency: int = 4,
        tagging: ElbClient | None = None,
        every_rule: bool = False,
    ) -> None:
        self.client = client
        self.tagging = tagging
        self.target = target
        self.owner = owner
        self.concurrency = max(1, concurrency)
        self.every_rule = every_rule
        self.catalogue = Catalogue()

    def read(self, spec: Spec) -> LiveState:
        before = self._counts()
        desired = {
            lb.name: normalise_load_balancer(lb)
            for lb in spec.load_balancers_on(self.target)
        }
        self.catalogue.desired = desired
        owned = self._owned()
        in_scope = self._load_balancers(sorted(desired), owned)
        tags = {arn: tags for arn, tags in owned.items() if ":loadbalancer/" in arn}
        tags.update(
            self._tags(
                [
                    item["LoadBalancerArn"]
                    for item in in_scope
                    if item["LoadBalancerArn"] not in tags
                ]
            )
        )
        details = self._run(
            [
                partial(self._details, item, self._rules_wanted(item, tags, desired))
                for item in in_scope
            ]
        )
        groups = self._target_groups(in_scope, desired, owned)
        live = [
            self._live_load_balancer(
                item, tags, listeners, attributes, groups, desired, rules
            )
            for item, (listeners, attributes, rules) in zip(
                in_scope, details, strict=True
            )
        ]
        after = self._counts()
        reads = tuple(
            sorted(
                (action, count - before.get(action, 0))
                for action, count in after.items()
                if count > before.get(action, 0)
            )
        )
        return LiveState(
            target=self.target,
            load_balancers=tuple(sorted(live, key=lambda lb: lb.spec.name)),
            reads=reads,
        )

    # -- calls --

    def _counts(self) -> dict[str, int]:
        counts = dict(self.client.counts())
        if self.tagging is not None:
            counts.update(self.tagging.counts())
        return counts

    def _owned(self) -> dict[str, dict[str, str]]:
        """Owned load balancers and target groups by ARN, with their tags."""
        if self.tagging is None:
            return {}
        found = self.tagging.tagged(
            TagFilters=[{"Key": OWNER_TAG, "Values": [self.owner]}],
            ResourceTypeFilters=OWNED_TYPES,
            ResourcesPerPage=100,
        )
        return {
            item["ResourceARN"]: {
                tag["Key"]: tag.get("Value", "") for tag in item.get("Tags", [])
            }
            for item in found
        }

    def _load_balancers(
        self, names: Sequence[str], owned: dict[str, dict[str, str]]
    ) -> list[dict[str, Any]]:
        """The load balancers the spec names, then the owned ones it does not."""
        found: dict[str, dict[str, Any]] = {}
        listing: list[dict[str, Any]] | None = None
        for i in range(0, len(names), NAMES_PER_CALL):
            batch = list(names[i : i + NAMES_PER_CALL])
            try:
                items = self.client.pages(
                    "DescribeLoadBalancers", "LoadBalancers", Names=batch
                )
            except ElbApiError as err:
                if err.code != "LoadBalancerNotFound":
                    raise
                # One new name fails the batch whole: list the region once.
                if listing is None:
                    listing = self.client.pages(
                        "DescribeLoadBalancers", "LoadBalancers", PageSize=PAGE_SIZE
                    )
                items = [x for x in listing if x["LoadBalancerName"] in set(batch)]
            found.update({item["LoadBalancerArn"]: item for item in items})
        rest = sorted(
            arn for arn in owned if ":loadbalancer/" in arn and arn not in found
        )
        for i in range(0, len(rest), ARNS_PER_CALL):
            batch = rest[i : i + ARNS_PER_CALL]
            try:
                items = self.client.pages(
                    "DescribeLoadBalancers", "LoadBalancers", LoadBalancerArns=batch
                )
            except ElbApiError as err:
                if err.code != "LoadBalancerNotFound":
                    raise
                # Deleted since the tag index saw it: ask one by one.
                items = self._one_by_one(batch)
            found.update({item["LoadBalancerArn"]: item for item in items})
        return sorted(found.values(), key=lambda item: item["LoadBalancerName"])

    def _one_by_one(self, arns: Sequence[str]) -> list[dict[str, Any]]:
        items = []
        for arn in arns:
            try:
                response = self.client.call(
                    "DescribeLoadBalancers", LoadBalancerArns=[arn]
                )
            except ElbApiError as err:
                if err.code != "LoadBalancerNotFound":
                    raise
                continue
            items.extend(response.get("LoadBalancers", []))
        return items

    def _tags(self, arns: Sequence[str]) -> dict[str, dict[str, str]]:
        batches = [
            list(arns[i : i + TAGS_PER_CALL])
            for i in range(0, len(arns), TAGS_PER_CALL)
        ]
        found: dict[str, dict[str, str]] = {}
        for response in self._run(
            [
                partial(self.client.call, "DescribeTags", ResourceArns=batch)
                for batch in batches
            ]
        ):
            for item in response.get("TagDescriptions", []):
                found[item["ResourceArn"]] = {
                    tag["Key"]: tag.get("Value", "") for tag in item.get("Tags", [])
                }
        return found

    def _rules_wanted(
        self,
        item: dict[str, Any],
        tags: dict[str, dict[str, str]],
        desired: dict[str, LoadBalancer],
    ) -> Callable[[dict[str, Any]], bool]:
        """Whose rules to read: a read per listener, so only where they matter."""
        owned = tags.get(item["LoadBalancerArn"], {}).get(OWNER_TAG) == self.owner
        want = desired.get(item["LoadBalancerName"])
        # By port: a listener whose protocol the spec changes keeps its rules.
        ports = {x.port for x in want.listeners if x.rules} if want else set()

        def wanted(raw: dict[str, Any]) -> bool:
            if raw.get("Protocol") not in RULE_PROTOCOLS:
                return False
            return self.every_rule or owned or int(raw["Port"]) in ports

        return wanted

    def _details(
        self, item: dict[str, Any], rules_wanted: Callable[[dict[str, Any]], bool]
    ) -> tuple[list[dict[str, Any]], dict[str, str], RawRules]:
        arn = item["LoadBalancerArn"]
        listeners = self.client.pages(
            "DescribeListeners", "Listeners", LoadBalancerArn=arn
        )
        response = self.client.call(
            "DescribeLoadBalancerAttributes", LoadBalancerArn=arn
        )
        rules = {
            raw["ListenerArn"]: self._rules(raw["ListenerArn"])
            for raw in listeners
            if rules_wanted(raw)
        }
        rule_tags = self._tags(
            [rule["RuleArn"] for found in rules.values() for rule in found]
        )
        tagged = {
            listener: [(rule, rule_tags.get(rule["RuleArn"], {})) for rule in found]
            for listener, found in rules.items()
        }
        return listeners, _attributes(response), tagged

    def _rules(self, listener_arn: str) -> list[dict[str, Any]]:
        found = self.client.pages(
            "DescribeRules", "Rules", ListenerArn=listener_arn, PageSize=RULES_PAGE
        )
        return [rule for rule in found if not rule.get("IsDefault")]

    def _target_groups(
        self,
        lbs: Sequence[dict[str, Any]],
        desired: dict[str, LoadBalancer],
        owned: dict[str, dict[str, str]],
    ) -> dict[str, tuple[TargetGroupFacts, dict[str, str], list[dict[str, Any]]]]:
        """In-scope target groups by ARN: facts, tags and member health."""
        if not lbs and not desired:
            return {}
        arns = {item["LoadBalancerArn"] for item in lbs}
        wanted = {
            target_group_name(lb.name, group.name)
            for lb in desired.values()
            for group in lb.server_groups
        }
        listing = self.client.pages(
            "DescribeTargetGroups", "TargetGroups", PageSize=PAGE_SIZE
        )
        scope = {item["LoadBalancerName"] for item in lbs}
        candidates = [
            item
            for item in listing
            if item["TargetGroupName"] in wanted
            or arns & set(item.get("LoadBalancerArns", []))
            or owned.get(item["TargetGroupArn"], {}).get(LB_TAG) in scope
        ]
        tags = {
            item["TargetGroupArn"]: owned[item["TargetGroupArn"]]
            for item in candidates
            if item["TargetGroupArn"] in owned
        }
        tags.update(
            self._tags(
                [
                    item["TargetGroupArn"]
                    for item in candidates
                    if item["TargetGroupArn"] not in tags
                ]
            )
        )
        extra = self._run([partial(self._group_details, item) for item in candidates])
        result = {}
        for item, (attributes, members) in zip(candidates, extra, strict=True):
            facts = TargetGroupFacts(
                arn=item["TargetGroupArn"],
                name=item["TargetGroupName"],
                port=int(item.get("Port", 0)),
                protocol=item.get("Protocol", ""),
                target_type=item.get("TargetType", "instance"),
                raw=item,
                attributes=attributes,
                owned=tags.get(item["TargetGroupArn"], {}).get(OWNER_TAG) == self.owner,
            )
            result[facts.arn] = (facts, tags.get(facts.arn, {}), members)
        return result

    def _group_details(
        self, item: dict[str, Any]
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        arn = item["TargetGroupArn"]
        attributes = _attributes(
            self.client.call("DescribeTargetGroupAttributes", TargetGroupArn=arn)
        )
        health = self.client.call("DescribeTargetHealth", TargetGroupArn=arn)
        return attributes, health.get("TargetHealthDescriptions", [])

    def _run(self, jobs: Sequence[Callable[[], T]]) -> list[T]:
        if len(jobs) <= 1 or self.concurrency == 1:
            return [job() for job in jobs]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda job: job(), jobs))

    # -- building the live model --

    def _live_load_balancer(
        self,
        item: dict[str, Any],
        tags: dict[str, dict[str, str]],
        listeners: list[dict[str, Any]],
        attributes: dict[str, str],
        groups: dict[
            str, tuple[TargetGroupFacts, dict[str, str], list[dict[str, Any]]]
        ],
        desired: dict[str, LoadBalancer],
        rules: RawRules,
    ) -> LiveLoadBalancer:
        name = item["LoadBalancerName"]
        arn = item["LoadBalancerArn"]
        kind = item.get("Type", "application")
        want = desired.get(name)
        own_tags = tags.get(arn, {})
        self.catalogue.lb_arns[name] = arn
        self.catalogue.vpcs[name] = item.get("VpcId", "")
        self.catalogue.kinds[name] = kind
        ids: list[tuple[str, str]] = [("lb", arn)]

        # This load balancer's groups: tagged for it, or forwarded to by it.
        by_arn: dict[str, str] = {}
        for facts, group_tags, _ in groups.values():
            tagged = group_tags.get(LB_TAG) == name and GROUP_TAG in group_tags
            attached = arn in facts.raw.get("LoadBalancerArns", [])
            if tagged:
                by_arn[facts.arn] = group_tags[GROUP_TAG]
            elif attached and not group_tags.get(LB_TAG):
                by_arn[facts.arn] = facts.name
        live_groups = []
        for group_arn, group_name in sorted(by_arn.items(), key=lambda kv: kv[1]):
            facts, group_tags, members = groups[group_arn]
            self.catalogue.groups[(name, group_name)] = facts
            ids.append((f"group:{group_name}", group_arn))
            wanted = want.server_group(group_name) if want else None
            live_groups.append(
                ServerGroup(
                    name=group_name,
                    membership=wanted.membership if wanted else Membership.STATIC,
                    servers=tuple(sorted(_servers(members), key=lambda s: s.key)),
                    tags=spec_tags(group_tags),
                )
            )

        live_listeners = []
        for raw in sorted(listeners, key=lambda x: (x["Port"], x["Protocol"])):
            listener = self._listener(raw, by_arn, groups, kind, want)
            if listener is None:
                continue
            self.catalogue.listeners[(name, listener.label)] = raw["ListenerArn"]
            ids.append((f"listener:{listener.label}", raw["ListenerArn"]))
            if raw["ListenerArn"] in rules:
                listener = self._with_rules(
                    name, listener, rules[raw["ListenerArn"]], by_arn, ids
                )
            live_listeners.append(listener)

        spec = LoadBalancer(
            name=name,
            target=self.target,
            address_type=ADDRESS_TYPE.get(item.get("Scheme", ""), "internet"),
            address_ip_version=IP_VERSION.get(item.get("IpAddressType", ""), "ipv4"),
            type=kind,
            subnets=tuple(
                sorted(
                    zone["SubnetId"]
                    for zone in item.get("AvailabilityZones", [])
                    if zone.get("SubnetId")
                )
            ),
            security_groups=tuple(sorted(item.get("SecurityGroups", []))),
            deletion_protection=attributes.get("deletion_protection.enabled") == "true",
            tags=spec_tags(own_tags),
            server_groups=tuple(live_groups),
            listeners=tuple(live_listeners),
            adopt=want.adopt if want else False,
        )
        return LiveLoadBalancer(
            spec=spec,
            id=arn,
            owned=own_tags.get(OWNER_TAG) == self.owner,
            running=tuple(sorted(item.key for item in live_listeners)),
            ids=tuple(sorted(ids)),
        )

    def _with_rules(
        self,
        lb: str,
        listener: Listener,
        raw_rules: list[tuple[dict[str, Any], dict[str, str]]],
        group_names: dict[str, str],
        ids: list[tuple[str, str]],
    ) -> Listener:
        """The listener with its rules in priority order; the catalogue learns them."""
        facts, found = [], []
        ordered = sorted(raw_rules, key=lambda pair: int(pair[0]["Priority"]))
        for raw, tags in ordered:
            priority = int(raw["Priority"])
            name = tags.get(RULE_TAG) or f"rule-{priority}"
            rule: ForwardingRule = rule_from(raw, name, group_names)
            facts.append(
                RuleFacts(
                    arn=raw["RuleArn"],
                    name=name,
                    priority=priority,
                    named=RULE_TAG in tags,
                    owned=tags.get(OWNER_TAG) == self.owner,
                )
            )
            ids.append((f"rule:{listener.label}/{name}", raw["RuleArn"]))
            found.append(rule)
        self.catalogue.rules[(lb, listener.label)] = facts
        return replace(listener, rules=tuple(found))

    def _listener(
        self,
        raw: dict[str, Any],
        group_names: dict[str, str],
        groups: dict[
            str, tuple[TargetGroupFacts, dict[str, str], list[dict[str, Any]]]
        ],
        kind: str,
        want: LoadBalancer | None,
    ) -> Listener | None:
        try:
            protocol = Protocol(raw["Protocol"].lower())
        except ValueError:
            # TODO(aws): TCP_UDP (and GENEVE) listeners have no spec protocol,
            # so they are invisible to plans (never changed, never pruned); the
            # way out is a tcp_udp protocol in the portable model.
            log.warning(
                "read: target=%s listener=%s protocol=%s not modelled; left alone",
                self.target,
                raw["ListenerArn"],
                raw["Protocol"],
            )
            return None
        listener = Listener(protocol=protocol, port=int(raw["Port"]))
        for action in raw.get("DefaultActions", []):
            group_arn = _forward_target(action)
            if group_arn:
                listener = replace(listener, server_group=group_names.get(group_arn))
                if group_arn in groups:
                    facts = groups[group_arn][0]
                    settings = facts.settings(protocol, kind)
                    listener = with_settings(listener, settings, facts.port)
            elif action.get("Type") == "redirect":
                port = action.get("RedirectConfig", {}).get("Port", "")
                if str(port).isdigit():
                    listener = replace(listener, redirect_to_port=int(port))
        certificates = raw.get("Certificates") or []
        if protocol in (Protocol.HTTPS, Protocol.TLS) and certificates:
            listener = replace(listener, certificate=certificates[0]["CertificateArn"])
        desired = None
        if want is not None:
            desired = next((x for x in want.listeners if x.key == listener.key), None)
        return _mask_unset(listener, desired)


def _forward_target(action: dict[str, Any]) -> str | None:
    if action.get("Type") != "forward":
        return None
    if action.get("TargetGroupArn"):
        return str(action["TargetGroupArn"])
    groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
    return str(groups[0]["TargetGroupArn"]) if groups else None


def _mask_unset(listener: Listener, desired: Listener | None) -> Listener:
    """Blank live values the spec leaves unset: it does not care about them."""
    if desired is None:
        return listener
    if desired.backend_port is None:
        listener = replace(listener, backend_port=None)
    check = listener.health_check
    if desired.health_check.path is None and check.path == "/":
        listener = replace(listener, health_check=replace(check, path=None))
    sticky = listener.sticky_session
    if (
        sticky is not None
        and desired.sticky_session is not None
        and desired.sticky_session.cookie_timeout is None
    ):
        listener = replace(
            listener, sticky_session=replace(sticky, cookie_timeout=None)
        )
    return listener


def _servers(members: list[dict[str, Any]]) -> list[Server]:
    servers = []
    for item in members:
        target = item["Target"]
        state = item.get("TargetHealth", {}).get("State", "")
        ident = str(target["Id"])
        port = int(target.get("Port", 0))
        # A draining target takes no new connections: weight 0, as a drain does.
        weight = 0 if state == "draining" else 100
        if ident.startswith("i-"):
            servers.append(Server(port=port, id=ident, weight=weight))
        else:
            servers.append(
                Server(port=port, address=ident, weight=weight, type=ServerType.IP)
            )
    return servers


def _attributes(response: dict[str, Any]) -> dict[str, str]:
    return {
        item["Key"]: str(item.get("Value", ""))
        for item in response.get("Attributes", [])
    }
