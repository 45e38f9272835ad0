"""What AWS tells about one target: health, and whether it still drains.

``DescribeTargetHealth`` gives each target's state. A deregistered target
is ``draining`` until its connections close or the group's deregistration
delay ends, then it is gone; so a drain waits while the target drains, at
most the delay (capped by ``--drain``), and ends as soon as AWS is done.
AWS does not count a target's open connections: ``sessions`` is None
(unknown) while it drains and 0 once it no longer does.
"""

from __future__ import annotations

from slbsync.membership.group import GroupView
from slbsync.membership.probes import Health, Probe
from slbsync.spec.model import Server

HEALTHY = {"healthy": True, "unhealthy": False, "unavailable": False}


class ElbProbe(Probe):
    waits_for_sessions = True
    reports_health = True

    def _states(self) -> dict[tuple[str, int], str]:
        return self.target.target_states(self.lb_name, self.group_name)  # type: ignore[attr-defined,no-any-return]

    def no_health_because(self, view: GroupView) -> str:
        # AWS always checks instance and IP targets: a verdict always comes.
        return ""

    def health(self, view: GroupView) -> Health:
        states = self._states()
        return {s.key: HEALTHY.get(states.get(s.key, "")) for s in view.members}

    def sessions(self, server: Server) -> int | None:
        state = self._states().get(server.key)
        return None if state == "draining" else 0

    def drain_wait(self, view: GroupView, budget: float) -> float:
        facts = self.target.catalogue.groups.get((self.lb_name, self.group_name))  # type: ignore[attr-defined]
        delay = (
            facts.attributes.get("deregistration_delay.timeout_seconds")
            if facts
            else None
        )
        return min(budget, float(delay)) if delay is not None else budget
