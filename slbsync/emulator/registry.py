"""The table of emulated actions and what a handler receives.

A handler is a function named after its action in snake case
(``DescribeLoadBalancers`` is answered by ``describe_load_balancers``),
registered with ``@action``. It reads ``ctx.params``, changes ``ctx.store``
(the server already holds the store's lock and persists after a write) and
returns the response body without ``RequestId``, which the server adds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from slbsync.emulator.errors import NotEmulated
from slbsync.emulator.params import Params
from slbsync.emulator.state.store import Store

SLB_VERSION = "2014-05-15"
ECS_VERSION = "2014-05-26"


@dataclass
class ActionContext:
    """Everything a handler may use for one request."""

    action: str
    params: Params
    store: Store
    request_id: str
    region_id: str  # RegionId from the request, else the emulator's default
    now: float  # seconds since the epoch, from the server's clock
    configuring_seconds: float = 0.0  # the listener configuring window


Handler = Callable[[ActionContext], dict[str, Any]]


@dataclass(frozen=True)
class ActionSpec:
    name: str
    version: str
    handler: Handler
    writes: bool
    not_emulated: frozenset[str] = field(default_factory=frozenset)


ACTIONS: dict[tuple[str, str], ActionSpec] = {}


def action(
    name: str,
    *,
    version: str = SLB_VERSION,
    writes: bool = False,
    not_emulated: Iterable[str] = (),
) -> Callable[[Handler], Handler]:
    """Register a handler for ``name``.

    ``writes`` marks actions that change state (they are persisted, and
    lost-response faults apply to them). ``not_emulated`` lists parameters
    the API defines but the emulator does not model: a request carrying one
    is refused with ``NotEmulated`` before the handler runs.
    """

    def register(handler: Handler) -> Handler:
        ACTIONS[(version, name)] = ActionSpec(
            name, version, handler, writes, frozenset(not_emulated)
        )
        return handler

    return register


def find_action(version: str, name: str) -> ActionSpec | None:
    return ACTIONS.get((version, name))


def refuse_not_emulated(spec: ActionSpec, params: Params) -> None:
    for parameter in sorted(spec.not_emulated):
        if parameter in params:
            raise NotEmulated(f"Parameter {parameter} of {spec.name}")
