"""The capacity guard: a drain may not take too much of a group at once.

A server at weight 0 that is still a member is a drain in progress (the
weight goes to 0 first and the server is removed once its drain ends), so
the guard counts those. It refuses a new drain when more servers than
allowed would be draining at once, or when no healthy server would be left
taking new connections; ``--force`` overrides both.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from slbsync.errors import SafetyError, SpecError
from slbsync.spec.model import Server

Health = dict[tuple[str, int], bool | None]


@dataclass(frozen=True)
class DrainLimit:
    """At most ``count`` servers, or ``share`` of the group, draining at once."""

    count: int | None = None
    share: float | None = 0.25

    def allowed(self, members: int) -> int:
        """How many of ``members`` may drain at once (always at least one)."""
        limits = []
        if self.count is not None:
            limits.append(self.count)
        if self.share is not None:
            limits.append(math.floor(self.share * members))
        return max(1, min(limits)) if limits else members

    @property
    def text(self) -> str:
        if self.count is not None:
            return str(self.count)
        return f"{(self.share or 0) * 100:g}%"


def parse_drain_limit(text: str) -> DrainLimit:
    """``3`` (servers) or ``25%`` (of the group); SpecError otherwise."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(%?)\s*", text)
    if found is None or (not found.group(2) and "." in found.group(1)):
        raise SpecError(
            f'--max-draining "{text}": use a number of servers (2) or a share of the group (25%)'  # noqa: E501
        )
    value = float(found.group(1))
    if found.group(2):
        if not 0 < value <= 100:
            raise SpecError(f'--max-draining "{text}": a share is between 1% and 100%')
        return DrainLimit(count=None, share=value / 100)
    if value < 1:
        raise SpecError(
            f'--max-draining "{text}": at least one server must be able to drain'
        )
    return DrainLimit(count=int(value), share=None)


def check_capacity(
    group: str,
    members: tuple[Server, ...],
    health: Health,
    leaving: Server,
    limit: DrainLimit,
) -> None:
    """Raise SafetyError when draining ``leaving`` takes too much of ``group``."""
    others = [s for s in members if s.key != leaving.key]
    draining = [s for s in others if s.weight == 0]
    allowed = limit.allowed(len(members))
    if len(draining) + 1 > allowed:
        names = ", ".join(s.label for s in draining)
        raise SafetyError(
            f"deregister {leaving.label} refused: {len(draining)} of {len(members)} servers of {group} are already draining ({names}) and at most {allowed} (--max-draining {limit.text}) may drain at once; retry once a drain has finished, or pass --force"  # noqa: E501
        )
    serving = [s for s in others if s.weight > 0 and health.get(s.key) is not False]
    if not serving:
        unhealthy = [s.label for s in others if s.weight > 0]
        detail = (
            f"the others taking traffic are unhealthy ({', '.join(unhealthy)})"
            if unhealthy
            else "no other server takes traffic"
        )
        raise SafetyError(
            f"deregister {leaving.label} refused: it would leave {group} without a healthy server ({detail}); add a server first, or pass --force"  # noqa: E501
        )
