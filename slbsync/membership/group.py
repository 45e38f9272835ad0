"""One server group of one load balancer, as registration sees it.

``GroupHandle`` reads a single group (its members and the listeners that
use it) and changes single members through the target's own machinery:
the change it makes is the one ``plan``/``apply`` would make for the same
difference (``Target.changes_for``), carried out with the apply runner's
retry policy, then ``Target.commit``. So on SLB a join is one
``AddVServerGroupBackendServers`` call, on HAProxy a runtime ``add
server`` persisted to the owned file, on nginx a rendered file and a
graceful reload.

The read is scoped to that one group: the spec given to the target names
only this load balancer, with only this group, as a ``static`` group (so
its members are read whatever its membership mode), and only the
listeners that use it.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slbsync.apply.retry import ChangeRunner, RetryPolicy
from slbsync.diff.changes import FieldChange, ResourceAddress, ResourceKind
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.errors import ApplyError, SpecError
from slbsync.spec.model import (
    Listener,
    LoadBalancer,
    Membership,
    Server,
    ServerGroup,
    Spec,
)
from slbsync.targets.base import LiveLoadBalancer, LiveState, Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupView:
    """What is live for one group: its members and the listeners using it."""

    members: tuple[Server, ...]
    listeners: tuple[Listener, ...]
    group_id: str | None
    lb_id: str | None
    live: LiveState

    def member(self, key: tuple[str, int]) -> Server | None:
        return next((s for s in self.members if s.key == key), None)


def find_group(
    spec: Spec, lb_name: str, group_name: str
) -> tuple[LoadBalancer, ServerGroup]:
    """The load balancer and group the spec names; SpecError naming the choices."""
    lb = next((item for item in spec.load_balancers if item.name == lb_name), None)
    if lb is None:
        known = ", ".join(sorted(item.name for item in spec.load_balancers)) or "none"
        raise SpecError(
            f"--load-balancer {lb_name}: not a load balancer in the spec; it has {known}"  # noqa: E501
        )
    group = lb.server_group(group_name)
    if group is None:
        known = ", ".join(g.name for g in lb.server_groups) or "none"
        raise SpecError(
            f"--group {group_name}: load balancer {lb_name} has no such server group; it has {known}"  # noqa: E501
        )
    return lb, group


class GroupHandle:
    """Reads and changes the members of one group on one target."""

    def __init__(
        self,
        spec: Spec,
        target: Target,
        lb_name: str,
        group_name: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.target = target
        self.lb, self.group = find_group(spec, lb_name, group_name)
        self.scope = _scoped_spec(spec, self.lb, self.group)
        self.runner = ChangeRunner(
            target, policy=policy or RetryPolicy(), sleep=sleep or time.sleep
        )

    @property
    def label(self) -> str:
        return f"{self.target.name}/{self.lb.name}/{self.group.name}"

    def read(self) -> GroupView:
        """Read the group as it is live now (a fresh read every time)."""
        live = self.target.read_live_state(self.scope)
        live_lb = live.load_balancer(self.lb.name)
        if live_lb is None:
            raise ApplyError(
                f"load balancer {self.lb.name} is not live on target {self.target.name}; run slbsync apply first"  # noqa: E501
            )
        group = live_lb.spec.server_group(self.group.name)
        if group is None:
            raise ApplyError(
                f"server group {self.group.name} of {self.lb.name} is not live on target {self.target.name}; run slbsync apply first"  # noqa: E501
            )
        listeners = tuple(
            item for item in live_lb.spec.listeners if item.server_group == group.name
        )
        return GroupView(
            members=group.servers,
            listeners=listeners,
            group_id=live_lb.id_of(f"group:{group.name}"),
            lb_id=live_lb.id,
            live=live,
        )

    def put(self, view: GroupView, server: Server) -> str:
        """Add ``server`` or set its weight; ``added``, ``updated`` or ``unchanged``."""
        have = view.member(server.key)
        if have is None:
            self._carry_out(view, DifferenceStatus.MISSING, desired=server)
            return "added"
        if have.weight == server.weight:
            return "unchanged"
        wanted = dataclasses.replace(have, weight=server.weight)
        fields = (FieldChange("weight", have.weight, server.weight),)
        self._carry_out(
            view, DifferenceStatus.MODIFIED, desired=wanted, live=have, fields=fields
        )
        return "updated"

    def remove(self, view: GroupView, server: Server) -> bool:
        """Remove ``server`` if it is a member; False when it was not."""
        have = view.member(server.key)
        if have is None:
            return False
        self._carry_out(view, DifferenceStatus.UNEXPECTED, live=have)
        return True

    def _carry_out(
        self,
        view: GroupView,
        status: DifferenceStatus,
        *,
        desired: Server | None = None,
        live: Server | None = None,
        fields: tuple[FieldChange, ...] = (),
    ) -> None:
        server = desired or live
        assert server is not None
        address = ResourceAddress(
            self.target.name,
            self.lb.name,
            ResourceKind.SERVERS,
            f"{self.group.name}/{server.label}",
        )
        difference = Difference(
            status, address, desired=desired, live=live, fields=fields,
            live_id=view.group_id,
        )  # fmt: skip
        changes = self.target.changes_for([difference], view.live)
        try:
            for change in changes:
                result = self.runner.run(change)
                log.info(
                    "membership: change=%s outcome=%s attempts=%d",
                    change.summary,
                    result.outcome,
                    result.attempts,
                )
                if not result.succeeded:
                    raise ApplyError(f"{change.summary}: {result.message}")
        finally:
            self.target.commit()


def _scoped_spec(spec: Spec, lb: LoadBalancer, group: ServerGroup) -> Spec:
    """The spec narrowed to one group, read as static so its members are read."""
    read_group = dataclasses.replace(
        group, membership=Membership.STATIC, servers=(), discover=None
    )
    listeners = tuple(item for item in lb.listeners if item.server_group == group.name)
    narrowed = dataclasses.replace(lb, server_groups=(read_group,), listeners=listeners)
    target = spec.target(lb.target)
    return Spec(targets=(target,) if target else (), load_balancers=(narrowed,))


def live_load_balancer(view: GroupView, name: str) -> LiveLoadBalancer | None:
    return view.live.load_balancer(name)
