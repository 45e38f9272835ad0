"""What a target can tell about one server: health, open sessions.

Registration waits for health, and deregistration for open sessions to
end. ``Probe`` is the contract and the answer of a target that reports
neither (nginx: a server at weight 0 is ``down``, and the connections it
still holds stay with the old workers after the reload until they close or
``worker_shutdown_timeout`` ends them, so there is nothing to wait for).
A target that can tell more brings its own probe from its package through
``Target.membership_probe`` (``targets/<name>/probe.py``).
"""

from __future__ import annotations

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


def probe_for(target: Target, lb_name: str, group_name: str) -> Probe:
    """The target's own probe for one group, or the default."""
    own: Probe | None = target.membership_probe(lb_name, group_name)
    return own if own is not None else Probe(target, lb_name, group_name)
