"""What HAProxy tells about one backend for register and deregister.

Health comes from ``show servers state`` (running, not in maintenance),
open sessions from ``show stat`` (``scur``); a drain ends as soon as they
reach 0, and what is left at the deadline is cut.
"""

from __future__ import annotations

from slbsync.membership.group import GroupView
from slbsync.membership.probes import Health, Probe
from slbsync.spec.model import Server
from slbsync.targets.haproxy.mapping import backend_name, server_name
from slbsync.targets.haproxy.runtime_api import OP_STATE_RUNNING


class HaproxyProbe(Probe):
    waits_for_sessions = True

    def no_health_because(self, view: GroupView) -> str:
        # Without checks a server is up once enabled: the state still tells.
        return ""

    def _backend(self) -> str:
        return backend_name(self.lb_name, self.group_name)

    def health(self, view: GroupView) -> Health:
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
        runtime = self.target.runtime  # type: ignore[attr-defined]
        current: dict[str, int] = runtime.current_sessions(self._backend())
        return current.get(server_name(server), 0)

    def cut(self, server: Server) -> None:
        runtime = self.target.runtime  # type: ignore[attr-defined]
        runtime.shutdown_sessions(self._backend(), server_name(server))

    def drain_wait(self, view: GroupView, budget: float) -> float:
        return budget
