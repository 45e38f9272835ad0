"""Carry out one change: resolve references, make its one call, learn ids.

A change planned before its parent existed names the parent by reference
(``{"$ref": "lb:chat"}``); the parent's create in the same run taught the
catalogue its ARN (and the load balancer's VPC, which its target groups
need). A saved plan applied in a later process resolves references by
reading: ``DescribeLoadBalancers``/``DescribeTargetGroups`` by name.
"""

from __future__ import annotations

import logging
from typing import Any

from slbsync.diff.changes import Change
from slbsync.errors import ApplyError
from slbsync.targets.aws_elbv2.client import ElbClient
from slbsync.targets.aws_elbv2.errors import ElbApiError
from slbsync.targets.aws_elbv2.names import target_group_name
from slbsync.targets.aws_elbv2.read import Catalogue, TargetGroupFacts
from slbsync.targets.base import ChangeOutcome

log = logging.getLogger(__name__)


class Applier:
    """Makes the calls changes name, for one target."""

    def __init__(self, client: ElbClient, catalogue: Catalogue, target: str) -> None:
        self.client = client
        self.catalogue = catalogue
        self.target = target

    def apply(self, change: Change) -> ChangeOutcome:
        params = self.resolve(change.get("params", {}))
        log.debug("apply: target=%s action=%s", self.target, change.action)
        response = self.client.call(change.action, **params)
        created = self._learn(change, response)
        return ChangeOutcome(change=change, created_id=created, note=change.note)

    # -- references --

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"$ref"}:
                return self._lookup(str(value["$ref"]))
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        return value

    def _lookup(self, reference: str) -> str:
        kind, _, name = reference.partition(":")
        if kind in ("lb", "vpc"):
            if name not in self.catalogue.lb_arns:
                self._read_load_balancer(name)
            table = self.catalogue.lb_arns if kind == "lb" else self.catalogue.vpcs
            return table[name]
        if kind == "group":
            lb, _, group = name.partition("/")
            if (lb, group) not in self.catalogue.groups:
                self._read_group(lb, group)
            return self.catalogue.groups[(lb, group)].arn
        if kind == "listener":
            lb, _, label = name.partition("/")
            if (lb, label) not in self.catalogue.listeners:
                self._read_listener(lb, label)
            return self.catalogue.listeners[(lb, label)]
        raise ApplyError(f"target {self.target}: unknown reference {reference}")

    def _read_load_balancer(self, name: str) -> None:
        try:
            response = self.client.call("DescribeLoadBalancers", Names=[name])
        except ElbApiError as err:
            if err.code != "LoadBalancerNotFound":
                raise
            raise ApplyError(
                f"target {self.target}: load balancer {name} does not exist yet; its create failed or was not applied, run slbsync plan again"  # noqa: E501
            ) from err
        self._remember_load_balancer(response["LoadBalancers"][0])

    def _read_group(self, lb: str, group: str) -> None:
        name = target_group_name(lb, group)
        try:
            response = self.client.call("DescribeTargetGroups", Names=[name])
        except ElbApiError as err:
            if err.code != "TargetGroupNotFound":
                raise
            raise ApplyError(
                f"target {self.target}: target group {name} ({lb}/{group}) does not exist yet; run slbsync plan again"  # noqa: E501
            ) from err
        self._remember_group(lb, group, response["TargetGroups"][0])

    def _read_listener(self, lb: str, label: str) -> None:
        arn = self._lookup(f"lb:{lb}")
        protocol, _, port = label.partition("/")
        for item in self.client.pages(
            "DescribeListeners", "Listeners", LoadBalancerArn=arn
        ):
            if item["Protocol"] == protocol.upper() and str(item["Port"]) == port:
                self.catalogue.listeners[(lb, label)] = item["ListenerArn"]
                return
        raise ApplyError(
            f"target {self.target}: listener {label} of {lb} does not exist yet; run slbsync plan again"  # noqa: E501
        )

    # -- learning from creates --

    def _learn(self, change: Change, response: dict[str, Any]) -> str | None:
        if change.action == "CreateLoadBalancer":
            item = response["LoadBalancers"][0]
            self._remember_load_balancer(item)
            return str(item["LoadBalancerArn"])
        if change.action == "CreateTargetGroup":
            item = response["TargetGroups"][0]
            self._remember_group(change.get("lb"), change.get("group"), item)
            return str(item["TargetGroupArn"])
        if change.action == "CreateListener":
            arn = str(response["Listeners"][0]["ListenerArn"])
            self.catalogue.listeners[(change.get("lb"), change.get("listener"))] = arn
            return arn
        if change.action == "CreateRule":
            return str(response["Rules"][0]["RuleArn"])
        return None

    def _remember_load_balancer(self, item: dict[str, Any]) -> None:
        name = item["LoadBalancerName"]
        self.catalogue.lb_arns[name] = item["LoadBalancerArn"]
        self.catalogue.vpcs[name] = item.get("VpcId", "")
        self.catalogue.kinds[name] = item.get("Type", "application")

    def _remember_group(self, lb: str, group: str, item: dict[str, Any]) -> None:
        self.catalogue.groups[(lb, group)] = TargetGroupFacts(
            arn=item["TargetGroupArn"],
            name=item["TargetGroupName"],
            port=int(item.get("Port", 0)),
            protocol=item.get("Protocol", ""),
            target_type=item.get("TargetType", "instance"),
            raw=item,
            attributes={},
            owned=True,
        )

    # -- settling an unknown outcome --

    def has_taken_effect(self, change: Change) -> bool:
        """Whether a create whose answer was lost exists now (learning its id).

        The other calls are idempotent on AWS (registering a registered
        target, deregistering a gone one, setting attributes to the same
        values), so for them False lets the runner simply make them again.
        """
        try:
            if change.action == "CreateLoadBalancer":
                self._read_load_balancer(change.get("lb"))
                return True
            if change.action == "CreateTargetGroup":
                self._read_group(change.get("lb"), change.get("group"))
                return True
        except ApplyError:
            return False
        if change.action == "CreateListener":
            params = change.get("params", {})
            arn = self.resolve(params["LoadBalancerArn"])
            listeners = self.client.pages(
                "DescribeListeners", "Listeners", LoadBalancerArn=arn
            )
            for item in listeners:
                if item["Port"] == params["Port"]:
                    key = (change.get("lb"), change.get("listener"))
                    self.catalogue.listeners[key] = item["ListenerArn"]
                    return True
        if change.action == "CreateRule":
            # Priorities are unique per listener: one there now is this rule.
            params = change.get("params", {})
            rules = self.client.pages(
                "DescribeRules",
                "Rules",
                ListenerArn=self.resolve(params["ListenerArn"]),
            )
            return any(item["Priority"] == str(params["Priority"]) for item in rules)
        return False
