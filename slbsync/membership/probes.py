"""What each target can tell about one server: health, open sessions.

Registration waits for health, and deregistration for open sessions to
end; the targets answer differently:

- ``alibaba-slb``: health from ``DescribeHealthStatus``; open sessions are
  not reported per server, so a drain waits the listener's connection-drain
  timeout (capped by ``--drain``), or all of ``--drain`` when no listener
  of the group drains (weight 0 keeps existing connections until removal).
- ``haproxy``: health from ``show servers state`` (running, not in
  maintenance), open sessions from ``show stat`` (``scur``); a drain ends as
  soon as they reach 0, and what is left at the deadline is cut.
- ``nginx`` (open source) reports neither; a server at weight 0 is
  ``down``, and the connections it still holds stay with the old workers
  after the reload until they close or ``worker_shutdown_timeout`` ends
  them, so there is nothing to wait for here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from slbsync.membership.group import GroupView
from slbsync.spec.model import Server
from slbsync.targets.base import Target

Health = dict[tuple[str, int], bool | None]


class Probe:
    """The default: a target that reports neither health nor sessions."""

    waits_for_sessions = False

    def __init__(self, target: Target, lb_name: str, group_name: str) -> None:
        self.target = target
        self.lb_name = lb_name
        self.group_name = group_name

    def health(self, view: GroupView) -> Health:
        """Health of each member: True, False, or None when unknown."""
        return {server.key: None for server in view.members}

    def no_health_because(self, view: GroupView) -> str:
        """Why no health verdict will ever come for the group, or ""."""
        return f"target {self.target.name} reports no health"

    def refresh(self, view: GroupView) -> GroupView | None:
        """``view`` with its members read again, where that is cheaper than
        a full read; None to read the group in full."""
        return None

    def sessions(self, server: Server) -> int | None:
        """Open sessions of ``server``; None when the target cannot tell."""
        return None

    def cut(self, server: Server) -> None:
        """End the sessions ``server`` still holds, where the target can."""
        return None

    def drain_wait(self, view: GroupView, budget: float) -> float:
        """How long a drain waits at most before the server is removed."""
        return 0.0


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
        from slbsync.targets.alibaba_slb.membership import group_members

        if view.group_id is None:
            return None
        client = self.target.client  # type: ignore[attr-defined]
        return replace(view, members=group_members(client, view.group_id))

    def health(self, view: GroupView) -> Health:
        from slbsync.targets.alibaba_slb.membership import health_by_server

        if view.lb_id is None:
            return super().health(view)
        found = health_by_server(self.target.client, view.lb_id)  # type: ignore[attr-defined]
        return {server.key: found.get(server.key) for server in view.members}

    def drain_wait(self, view: GroupView, budget: float) -> float:
        drains = [item.connection_drain for item in view.listeners]
        timeouts = [seconds for seconds in drains if seconds]
        return min(budget, max(timeouts)) if timeouts else budget


class HaproxyProbe(Probe):
    waits_for_sessions = True

    def no_health_because(self, view: GroupView) -> str:
        # Without checks a server is up once enabled: the state still tells.
        return ""

    def _backend(self) -> str:
        from slbsync.targets.haproxy.mapping import backend_name

        return backend_name(self.lb_name, self.group_name)

    def health(self, view: GroupView) -> Health:
        from slbsync.targets.haproxy.mapping import server_name
        from slbsync.targets.haproxy.runtime_api import OP_STATE_RUNNING

        states = {
            state.name: state
            for state in self.target.runtime.servers_state(self._backend())  # type: ignore[attr-defined]
        }
        found: Health = {}
        for server in view.members:
            state = states.get(server_name(server))
            found[server.key] = (
                None
                if state is None
                else state.op_state == OP_STATE_RUNNING and not state.is_maint
            )
        return found

    def sessions(self, server: Server) -> int | None:
        from slbsync.targets.haproxy.mapping import server_name

        runtime = self.target.runtime  # type: ignore[attr-defined]
        current: dict[str, int] = runtime.current_sessions(self._backend())
        return current.get(server_name(server), 0)

    def cut(self, server: Server) -> None:
        from slbsync.targets.haproxy.mapping import server_name

        runtime = self.target.runtime  # type: ignore[attr-defined]
        runtime.shutdown_sessions(self._backend(), server_name(server))

    def drain_wait(self, view: GroupView, budget: float) -> float:
        return budget


@dataclass(frozen=True)
class _Kinds:
    by_type: dict[str, type[Probe]]


_PROBES = _Kinds({"alibaba-slb": SlbProbe, "haproxy": HaproxyProbe})


def probe_for(target: Target, lb_name: str, group_name: str) -> Probe:
    # A target package may bring its own probe, so this module names no cloud.
    own = getattr(target, "membership_probe", None)
    if own is not None:
        probe: Probe = own(lb_name, group_name)
        return probe
    kind = _PROBES.by_type.get(target.type_name, Probe)
    return kind(target, lb_name, group_name)
