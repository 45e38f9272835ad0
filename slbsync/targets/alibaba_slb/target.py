"""The ``alibaba-slb`` target: Alibaba Cloud SLB/CLB through the official SDK.

Target options (``options`` in the spec's target): ``owner`` (the value of
the ownership tag, default ``slbsync``), ``rate`` (calls per second, default
20), ``burst`` (default 10) and ``min_rate`` (the floor it slows down
to when throttled, default 0.5) for the client-side rate limit,
``read_concurrency`` (default 8), ``state_dir`` for ``endpoint: local``,
``read_timeout_ms`` and ``connect_timeout_ms``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from slbsync.diff.changes import Change
from slbsync.diff.differences import Difference
from slbsync.ratelimit import AdaptiveRateLimiter, RateLimiter
from slbsync.spec.model import LoadBalancer, Server, ServerGroup, Spec, TargetSpec
from slbsync.targets.alibaba_slb.apply import Applier
from slbsync.targets.alibaba_slb.changes_children import SERVERS_PER_CALL
from slbsync.targets.alibaba_slb.client import DEFAULT_STATE_DIR, SlbClient
from slbsync.targets.alibaba_slb.ecs import InstanceDiscovery
from slbsync.targets.alibaba_slb.errors import SlbApiError
from slbsync.targets.alibaba_slb.names import CERTIFICATE_ID_PREFIX
from slbsync.targets.alibaba_slb.normalise import normalise_load_balancer
from slbsync.targets.alibaba_slb.options import option_number
from slbsync.targets.alibaba_slb.planner import build_changes
from slbsync.targets.alibaba_slb.quota import removes_first_at_quota
from slbsync.targets.alibaba_slb.read import LiveReader
from slbsync.targets.alibaba_slb.settle import Settler
from slbsync.targets.alibaba_slb.validate import INSTEAD_OF, LB_SETTINGS, problems_in
from slbsync.targets.base import ChangeOutcome, LiveState, Target

DEFAULT_REGION = "cn-hangzhou"


class AlibabaSlbTarget(Target):
    """Alibaba Cloud Server Load Balancer (CLB), API version 2014-05-15."""

    type_name: ClassVar[str] = "alibaba-slb"
    max_servers_per_call: ClassVar[int | None] = SERVERS_PER_CALL
    # id:<certificate id> names a certificate uploaded by other means, as
    # import writes it.
    native_certificate_prefix: ClassVar[str | None] = CERTIFICATE_ID_PREFIX
    region_needed: ClassVar[str | None] = DEFAULT_REGION
    load_balancer_settings: ClassVar[frozenset[str]] = LB_SETTINGS
    instead_of: ClassVar[Mapping[str, str]] = INSTEAD_OF
    # SLB's consistent-hash schedulers exist on layer-4 listeners only.
    native_schedulers: ClassVar[Mapping[str, tuple[str, ...]]] = {
        "rr": (),
        "wrr": (),
        "wlc": (),
        "sch": ("tcp", "udp"),
        "tch": ("tcp", "udp"),
        "qch": ("udp",),
    }

    def __init__(self, spec: TargetSpec) -> None:
        super().__init__(spec)
        # No I/O here: the SDK client and credentials come on first call.
        self.region = spec.region or DEFAULT_REGION
        self.rate_limiter: RateLimiter = AdaptiveRateLimiter(
            option_number(spec, "rate", 20),
            burst=int(option_number(spec, "burst", 10)),
            min_rate=option_number(spec, "min_rate", 0.5),
        )
        self.client = SlbClient(spec, self.rate_limiter)
        self.applier = Applier(self.client, self.name, self.owner)
        self.settler = Settler(self.applier)

    def share_rate_limiter(self, limiter: RateLimiter) -> None:
        """Use the apply runner's limiter for every call of this target.

        The runner takes a token for each change it runs and slows down on
        throttling (``is_throttling``), so writes no longer take a second
        token here; reads and settling reads take theirs from the same bucket.
        """
        self.rate_limiter = limiter
        self.client.limiter = limiter
        self.applier.limited = False

    def default_lock_dir(self) -> Path | None:
        # The embedded emulator's state lives under state_dir, relative to the
        # working directory, so its locks do too: the quick start then needs
        # no host-wide lock directory (and no root to create one).
        if self.spec.endpoint != "local":
            return None
        return Path(str(self.spec.option("state_dir", DEFAULT_STATE_DIR))) / "locks"

    # -- validation and normalisation ------------------------------------------

    def validate(self, spec: Spec) -> list[str]:
        return problems_in(spec, self.name)

    def normalise(self, lb: LoadBalancer) -> LoadBalancer:
        return normalise_load_balancer(lb)

    # -- reading and planning ---------------------------------------------------

    def read_live_state(self, spec: Spec) -> LiveState:
        reader = LiveReader(
            self.client,
            self.name,
            self.owner,
            int(option_number(self.spec, "read_concurrency", 8)),
        )
        live = reader.read(spec)
        self.applier.ids.learn(live)
        return live

    def discovery(
        self,
    ) -> Callable[[LoadBalancer, ServerGroup], tuple[Server, ...]] | None:
        # Running ECS instances by tag (ecs.py), listed once per plan.
        return InstanceDiscovery(self.client, self.region).servers

    def changes_for(
        self, differences: Sequence[Difference], live: LiveState
    ) -> list[Change]:
        return build_changes(
            differences,
            live,
            target=self.name,
            owner=self.owner,
            region=self.region,
        )

    # -- writing ---------------------------------------------------------------

    def apply_change(self, change: Change) -> ChangeOutcome:
        return self.applier.apply(change)

    def is_transient(self, error: BaseException) -> bool:
        return isinstance(error, SlbApiError) and error.transient

    def is_outcome_unknown(self, error: BaseException) -> bool:
        return isinstance(error, SlbApiError) and error.outcome_unknown

    def is_throttling(self, error: BaseException) -> bool:
        """True when the cloud throttled; the runner's limiter slows down."""
        return isinstance(error, SlbApiError) and error.throttling

    def order_after_failure(
        self, failed: Change, error: BaseException, rest: Sequence[Change]
    ) -> list[Change] | None:
        # An add at the server quota: the group's removes first (quota.py).
        return removes_first_at_quota(failed, error, rest)

    def has_taken_effect(self, change: Change) -> bool:
        return self.settler.has_taken_effect(change)

    def calls_made(self) -> dict[str, int]:
        """Every call this target made so far, by action (reads and writes)."""
        return self.client.counts()

    def call_results(self) -> dict[tuple[str, str], int]:
        """Every call so far by (action, result), result ``ok`` or an error code."""
        return self.client.result_counts()

    def importer(self) -> Any | None:
        """What ``slbsync import`` uses to list and read (``importer.py``)."""
        from slbsync.targets.alibaba_slb import importer

        return importer

    def membership_probe(self, lb: str, group: str) -> Any | None:
        """Health and drain wait for register and deregister (``probe.py``)."""
        from slbsync.targets.alibaba_slb.probe import SlbProbe

        return SlbProbe(self, lb, group)

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "type": self.type_name,
            "region": self.region,
            "endpoint": self.spec.endpoint or "the SDK's endpoint for the region",
            "owner": self.owner,
        }
