"""The small interface every target implements.

A target is one kind of load balancer slbsync drives (``alibaba-slb``,
``aws-elbv2``, ``nginx``, ``haproxy``). The rest of slbsync knows a target
only through ``Target``; a new target is a new package under ``targets/``
registered in ``targets/registry.py``, not edits across the tree. What
the spec checks need before any target is built (protocols, certificate
references and scheduler values of its own, whether it needs a region)
the class declares in class attributes; ``import`` and ``register`` reach
its package through ``importer`` and ``membership_probe``.

What a target must guarantee:

- ``read_live_state`` has no side effects. It reads only what the spec names
  (by name and by the ownership mark) plus the owned resources the spec no
  longer names (so ``--prune`` can find them), and counts every read call.
- The live state is expressed in the spec's own vocabulary and normalised
  like the spec (``normalise``), so an untouched load balancer plans clean.
- The constructor does no I/O: the spec validator builds targets to ask
  ``validate``, with no network and no credentials.
- ``apply_change`` makes exactly the one call (or operation) the change
  names in ``Change.action``. Ids of resources created earlier in the same
  run are resolved by the target itself (by name), so ``live_id`` may be
  None for a change whose parent is created by an earlier change. It
  raises ``TargetError`` subclasses, keeping the cause chained.
- ``is_transient`` is true only for errors documented as safe to retry
  (throttling, 5xx, busy or configuring codes, connection errors before the
  request was sent). ``is_outcome_unknown`` is true when a request may have
  taken effect (a timeout after sending); the apply runner then calls
  ``has_taken_effect`` to settle it by reading, never by a blind repeat.
- Nothing a target logs or raises contains a secret.
- ``lock_scope`` names the lock that guards a load balancer: runs that change
  the same scope never interleave. A target that rewrites one file for all
  its load balancers gives them all one scope; a target that sets
  ``writes_on_commit`` has its ``commit`` run while those locks are held.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

from slbsync.diff.changes import Change, ResourceKind
from slbsync.diff.differences import Difference
from slbsync.spec.model import (
    Acl,
    Certificate,
    LoadBalancer,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)

OWNER_TAG = "slbsync-owner"
"""Tag key that marks a cloud resource as owned; its value is the owner name."""

DEFAULT_OWNER = "slbsync"


@dataclass(frozen=True)
class LiveLoadBalancer:
    """A load balancer as it is live, in the spec's vocabulary.

    ``running`` lists the (protocol, port) keys of listeners that are
    started; ``ids`` maps spec names to live ids (``"lb"`` for the load
    balancer itself, ``"group:ws-nodes"``, ``"listener:tcp/443"``,
    ``"rule:tcp/443/name"``).
    """

    spec: LoadBalancer
    id: str | None
    owned: bool
    running: tuple[tuple[str, int], ...] = ()
    ids: tuple[tuple[str, str], ...] = ()
    # False when only the load balancer itself was read (one the spec does
    # not name): ``spec`` then shows none of its listeners or groups.
    children_read: bool = True
    # For such an owned one, read only when an old certificate upload waits
    # on it: (listener label, certificate id) for each certificate its
    # listeners use. None when its listeners were not read: they may use any.
    certificate_uses: tuple[tuple[str, str], ...] | None = None

    def id_of(self, key: str) -> str | None:
        return dict(self.ids).get(key)


@dataclass(frozen=True)
class LiveAcl:
    acl: Acl
    id: str
    owned: bool


@dataclass(frozen=True)
class LiveCertificate:
    certificate: Certificate
    id: str
    owned: bool
    # Owned uploads of the same name besides ``id`` (content since replaced),
    # as (id, fingerprint): deleted once no listener uses them.
    old_uploads: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LiveState:
    """Everything a target read, plus the calls it took to read it."""

    target: str
    load_balancers: tuple[LiveLoadBalancer, ...] = ()
    acls: tuple[LiveAcl, ...] = ()
    certificates: tuple[LiveCertificate, ...] = ()
    reads: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def load_balancer(self, name: str) -> LiveLoadBalancer | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, LiveLoadBalancer]:
        # Targets look load balancers up once per change: keep that O(1) for
        # fleets of thousands. The first of a duplicated name wins, as before.
        by_name: dict[str, LiveLoadBalancer] = {}
        for lb in self.load_balancers:
            by_name.setdefault(lb.spec.name, lb)
        return by_name

    @property
    def read_calls(self) -> int:
        return sum(count for _, count in self.reads)

    def fingerprint(self) -> str:
        """A digest of the live state (not of how it was read)."""
        document = {
            "target": self.target,
            "load_balancers": [asdict(lb) for lb in self.load_balancers],
            "acls": [asdict(acl) for acl in self.acls],
            "certificates": [asdict(cert) for cert in self.certificates],
        }
        canonical = json.dumps(document, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class ChangeOutcome:
    """What carrying out one change produced: new ids, and a note for people."""

    change: Change
    created_id: str | None = None
    note: str = ""


class Target(ABC):
    """One kind of load balancer that slbsync drives."""

    type_name: ClassVar[str]
    """The ``type`` a spec gives this target, e.g. ``alibaba-slb``."""

    max_servers_per_call: ClassVar[int | None] = None
    """How many servers one membership change may carry; None for no limit."""

    writes_on_commit: ClassVar[bool] = False
    """True when ``commit`` writes what ``apply_change`` staged (a proxy's file).

    The apply runner then keeps the locks it took until ``commit`` is done;
    released earlier, a registration between staging and commit would be
    rendered away by the commit.
    """

    # What the spec checks ask of a target type before any target is built:
    # the field tables hold what every target takes, a target class the rest.

    extra_protocols: ClassVar[tuple[str, ...]] = ()
    """Listener protocols past tcp, udp, http and https this target takes."""

    extra_field_protocols: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Listener fields this target takes on more protocols than the field
    table allows them: field key -> the further protocols."""

    native_schedulers: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    """Scheduler values of this target's own, passed through unchanged:
    value -> the protocols it works on (() for every protocol)."""

    region_needed: ClassVar[str | None] = None
    """An example region id when a spec must give this target a region (the
    message shows it); None when the target finds one itself or has none."""

    native_certificate_prefix: ClassVar[str | None] = None
    """How a listener's certificate starts when it is the cloud's own
    reference, not the name of a certificate under certificates."""

    load_balancer_settings: ClassVar[frozenset[str]] = frozenset()
    """Load balancer fields particular to some targets (``per_target`` in the
    field table) that this target takes; the spec refuses the others here."""

    instead_of: ClassVar[Mapping[str, str]] = {}
    """What to do on this target instead of another target's load balancer
    setting: field key -> the advice the message ends with."""

    unkept_fields: ClassVar[Mapping[str, Mapping[str, str]]] = {}
    """Portable fields this target has nowhere to keep, refused where a spec
    writes them rather than dropped in silence: the shape ("load balancer",
    "listener", "server group", "server" or "acl") -> field key -> the whole
    message, naming the target type and what to do instead."""

    rule_order_matters: ClassVar[bool] = False
    """True when a listener takes the first matching rule in the order they
    are live (an ALB's priorities): the diff then gives each rule out of the
    spec's order a ``position`` change, so drift reports a hand reorder.
    False where the most specific rule wins whatever the order (nginx,
    HAProxy) or rules carry no order (alibaba-slb): an order there is no
    behaviour, so comparing it would report drift that changes nothing."""

    def __init__(self, spec: TargetSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def owner(self) -> str:
        return str(self.spec.option("owner", DEFAULT_OWNER))

    # -- validation and normalisation -------------------------------------

    def validate(self, spec: Spec) -> list[str]:
        """Problems this target has with the parts of ``spec`` aimed at it.

        Each problem is ``"<location> <field path>: <message>"``; an empty
        list means the target can do everything asked of it.
        """
        return []

    def normalise(self, lb: LoadBalancer) -> LoadBalancer:
        """Fill in this target's defaults so spec and live state compare."""
        return lb

    def ignored_fields(self, kind: ResourceKind) -> frozenset[str]:
        """Fields of ``kind`` this target does not model; the diff skips them."""
        return frozenset()

    @abstractmethod
    def changes_for(
        self, differences: Sequence[Difference], live: LiveState
    ) -> list[Change]:
        """Turn differences into the fewest changes, one call each.

        The diff has already dropped ``unexpected`` differences unless the
        run prunes, and those on resources slbsync does not own. Within
        one dependency rank, changes keep the order returned here (adds
        before weight changes before removes, so capacity never dips);
        ``diff.order.order_by_dependency`` orders the ranks.
        """

    # -- reading and writing ----------------------------------------------

    @abstractmethod
    def read_live_state(self, spec: Spec) -> LiveState:
        """Read what is live for everything ``spec`` aims at this target."""

    @abstractmethod
    def apply_change(self, change: Change) -> ChangeOutcome:
        """Carry out one change with one call."""

    def lock_scope(self, load_balancer: str) -> str:
        """The name of the lock that guards changes to ``load_balancer``.

        One per load balancer by default. A target that rewrites one file
        covering every load balancer returns the same name for all of them,
        since two runs on different load balancers would still overwrite
        each other's file.
        """
        return load_balancer

    def default_lock_dir(self) -> Path | None:
        """Where this target's file locks go when nothing else says (None: the
        host-wide default). A target whose live state is itself a local file
        keeps its locks beside that file, so they cover what the state covers.
        """
        return None

    def commit(self) -> None:
        """Finish a run after its changes (render and reload, for proxies)."""
        return None

    def discovery(
        self,
    ) -> Callable[[LoadBalancer, ServerGroup], tuple[Server, ...]] | None:
        """A hook for one plan: the members ``discovered`` groups should have.

        None (the default) when the target cannot discover; the diff then
        takes a discovered group as it is live. The hook may read (and
        count its reads); a fresh one per plan reads afresh.
        """
        return None

    def importer(self) -> Any | None:
        """The module ``slbsync import`` lists and reads with, or None when
        this target cannot import.

        It offers ``find_load_balancers``, ``read_for_import`` and
        ``check_importable`` (``importer/run.py`` calls them). Import it
        here, on use, so a run that does not import loads no more of the SDK.
        """
        return None

    def membership_probe(self, lb: str, group: str) -> Any | None:
        """What register and deregister ask about one group's servers: a
        ``membership.probes.Probe`` (health, open sessions, how long a drain
        waits), or None for the default that reports neither."""
        return None

    def is_transient(self, error: BaseException) -> bool:
        """True when ``error`` is documented as safe to retry."""
        return False

    def is_outcome_unknown(self, error: BaseException) -> bool:
        """True when the request may have taken effect before it failed."""
        return False

    def order_after_failure(
        self, failed: Change, error: BaseException, rest: Sequence[Change]
    ) -> list[Change] | None:
        """A new order for a load balancer's remaining changes, or None.

        Asked when ``failed`` failed for good (retries done) with ``rest`` of
        its load balancer's changes still to run. A target that knows a
        different order lets ``failed`` succeed returns ``failed`` and every
        change of ``rest``, each exactly once, in that order; the runner runs
        them instead of stopping. It must not offer the same way out twice
        (the alibaba-slb target moves a group's removes ahead of an add that
        hit the server quota; once moved, none are left behind to move).
        """
        return None

    def has_taken_effect(self, change: Change) -> bool:
        """Settle an unknown outcome by reading the live state again."""
        raise NotImplementedError(
            f"target {self.name} cannot settle an unknown outcome"
        )

    def describe(self) -> dict[str, Any]:
        """Facts for the plan header: type, region, endpoint (never a secret)."""
        return {"target": self.name, "type": self.type_name}
