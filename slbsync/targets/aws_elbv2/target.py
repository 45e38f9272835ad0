"""The ``aws-elbv2`` target: AWS Application and Network Load Balancers.

Through boto3's ``elbv2`` client; credentials and region from boto3's
usual chain (the target's ``region`` and ``profile`` take precedence),
``endpoint`` for another URL such as moto's server. Target options:
``owner`` (the ownership tag's value, default ``slbsync``),
``read_concurrency`` (default 4), ``connect_timeout`` and ``read_timeout``
in seconds. docs/targets/aws-elbv2.md maps the spec to AWS.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

from slbsync.diff.changes import Change, ResourceKind
from slbsync.diff.differences import Difference
from slbsync.spec.fields import PER_TARGET_LB_FIELDS
from slbsync.spec.model import LoadBalancer, Protocol, Spec, TargetSpec
from slbsync.targets.aws_elbv2.apply import Applier
from slbsync.targets.aws_elbv2.changes import TARGETS_PER_CALL, Planner
from slbsync.targets.aws_elbv2.client import ClientFactory, ElbClient, boto3_client
from slbsync.targets.aws_elbv2.errors import ElbApiError
from slbsync.targets.aws_elbv2.mapping import (
    DRAIN_BEYOND_TABLE,
    normalise_load_balancer,
)
from slbsync.targets.aws_elbv2.names import ARN_PREFIX
from slbsync.targets.aws_elbv2.read import Catalogue, LiveReader
from slbsync.targets.aws_elbv2.validate import INSTEAD_OF, LB_SETTINGS, problems_in
from slbsync.targets.base import ChangeOutcome, LiveState, Target

TAGGING_CLIENT = partial(boto3_client, service="resourcegroupstaggingapi")


class AwsElbv2Target(Target):
    """AWS Elastic Load Balancing v2: application and network load balancers."""

    type_name: ClassVar[str] = "aws-elbv2"
    max_servers_per_call: ClassVar[int | None] = TARGETS_PER_CALL
    extra_protocols: ClassVar[tuple[str, ...]] = (Protocol.TLS.value,)
    # Every target group has a deregistration delay, whatever the protocol.
    extra_field_protocols: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "connection_drain": DRAIN_BEYOND_TABLE
    }
    native_certificate_prefix: ClassVar[str | None] = ARN_PREFIX
    load_balancer_settings: ClassVar[frozenset[str]] = LB_SETTINGS
    instead_of: ClassVar[Mapping[str, str]] = INSTEAD_OF
    # An ALB takes the first rule by priority that matches (rules.py).
    rule_order_matters: ClassVar[bool] = True

    def __init__(
        self,
        spec: TargetSpec,
        client_factory: ClientFactory = boto3_client,
        tagging_factory: ClientFactory = TAGGING_CLIENT,
    ) -> None:
        super().__init__(spec)
        # No I/O here: boto3 builds its client and finds credentials on first call.
        self.client = ElbClient(spec, client_factory)
        # Owned resources by tag: ELBv2 itself cannot filter by tag.
        self.tagging = ElbClient(spec, tagging_factory)
        self.catalogue = Catalogue()
        self.applier = Applier(self.client, self.catalogue, self.name)

    # -- validation and normalisation --

    def validate(self, spec: Spec) -> list[str]:
        return problems_in(spec, self.name)

    def normalise(self, lb: LoadBalancer) -> LoadBalancer:
        return normalise_load_balancer(lb)

    def ignored_fields(self, kind: ResourceKind) -> frozenset[str]:
        if kind == ResourceKind.LOAD_BALANCER:
            # Other targets' settings: the spec refuses them when written.
            return PER_TARGET_LB_FIELDS - LB_SETTINGS
        if kind == ResourceKind.SERVERS:
            return frozenset({"type", "description"})
        return frozenset()

    # -- reading and planning --

    def read_live_state(self, spec: Spec, *, every_rule: bool = False) -> LiveState:
        """The live state ``spec`` names; ``every_rule`` reads all listeners' rules."""
        reader = LiveReader(
            self.client,
            self.name,
            self.owner,
            int(self.spec.option("read_concurrency", 4)),
            tagging=self.tagging,
            every_rule=every_rule,
        )
        live = reader.read(spec)
        _merge(self.catalogue, reader.catalogue)
        return live

    def changes_for(
        self, differences: Sequence[Difference], live: LiveState
    ) -> list[Change]:
        planner = Planner(self.name, self.owner, self.catalogue, live)
        return planner.build(differences)

    # -- writing --

    def apply_change(self, change: Change) -> ChangeOutcome:
        return self.applier.apply(change)

    def is_transient(self, error: BaseException) -> bool:
        return isinstance(error, ElbApiError) and error.transient

    def is_outcome_unknown(self, error: BaseException) -> bool:
        return isinstance(error, ElbApiError) and error.outcome_unknown

    def is_throttling(self, error: BaseException) -> bool:
        """True when AWS throttled; the runner's limiter slows down."""
        return isinstance(error, ElbApiError) and error.throttling

    def has_taken_effect(self, change: Change) -> bool:
        return self.applier.has_taken_effect(change)

    def calls_made(self) -> dict[str, int]:
        """Every call this target made so far, by action (reads and writes)."""
        return {**self.tagging.counts(), **self.client.counts()}

    def call_results(self) -> dict[tuple[str, str], int]:
        return {**self.tagging.result_counts(), **self.client.result_counts()}

    def target_states(self, lb: str, group: str) -> dict[tuple[str, int], str]:
        """Each member's AWS state (healthy, draining, ...), read now."""
        facts = self.catalogue.groups.get((lb, group))
        if facts is None:
            return {}
        response = self.client.call("DescribeTargetHealth", TargetGroupArn=facts.arn)
        return {
            (str(item["Target"]["Id"]), int(item["Target"].get("Port", 0))): str(
                item.get("TargetHealth", {}).get("State", "")
            )
            for item in response.get("TargetHealthDescriptions", [])
        }

    def importer(self) -> Any | None:
        """What ``slbsync import`` uses to list and read (``importer.py``)."""
        from slbsync.targets.aws_elbv2 import importer

        return importer

    def membership_probe(self, lb: str, group: str) -> Any | None:
        """Health and drain state for register and deregister (``probe.py``)."""
        from slbsync.targets.aws_elbv2.probe import ElbProbe

        return ElbProbe(self, lb, group)

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "type": self.type_name,
            "region": self.spec.region or "boto3's default region",
            "endpoint": self.spec.endpoint or "AWS's endpoint for the region",
            "owner": self.owner,
        }


def _merge(into: Catalogue, read: Catalogue) -> None:
    """What a read learned replaces what an earlier read knew."""
    into.lb_arns.update(read.lb_arns)
    into.vpcs.update(read.vpcs)
    into.kinds.update(read.kinds)
    into.groups.update(read.groups)
    into.listeners.update(read.listeners)
    # A load balancer read again has exactly the rules read now.
    for key in [key for key in into.rules if key[0] in read.lb_arns]:
        del into.rules[key]
    into.rules.update(read.rules)
    into.desired.update(read.desired)
