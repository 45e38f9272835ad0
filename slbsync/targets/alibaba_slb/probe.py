"""What SLB tells about one server group for register and deregister.

Health comes from ``DescribeHealthStatus``. Open sessions are not reported
per server, so a drain waits the listener's connection-drain timeout
(capped by ``--drain``), or all of ``--drain`` when no listener of the
group drains (weight 0 keeps existing connections until removal).
"""

from __future__ import annotations

from dataclasses import replace

from slbsync.membership.group import GroupView
from slbsync.membership.probes import Health, Probe
from slbsync.targets.alibaba_slb.membership import group_members, health_by_server


class SlbProbe(Probe):
    def no_health_because(self, view: GroupView) -> str:
        # A listener whose check is off reports its backends "unavailable".
        if view.listeners and not any(
            item.health_check.enabled for item in view.listeners
        ):
            return "no listener of the group checks health"
        return ""

    def refresh(self, view: GroupView) -> GroupView | None:
        # One call instead of a plan's five: the lock is held for less.
        if view.group_id is None:
            return None
        client = self.target.client  # type: ignore[attr-defined]
        return replace(view, members=group_members(client, view.group_id))

    def health(self, view: GroupView) -> Health:
        if view.lb_id is None:
            return super().health(view)
        found = health_by_server(self.target.client, view.lb_id)  # type: ignore[attr-defined]
        return {server.key: found.get(server.key) for server in view.members}

    def drain_wait(self, view: GroupView, budget: float) -> float:
        drains = [item.connection_drain for item in view.listeners]
        timeouts = [seconds for seconds in drains if seconds]
        return min(budget, max(timeouts)) if timeouts else budget
