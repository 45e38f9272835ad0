"""Fixtures for the alibaba-slb target: a target aimed at the test emulator."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from slbsync.diff.changes import Change
from slbsync.diff.compare import compare
from slbsync.diff.order import order_by_dependency
from slbsync.spec.model import LoadBalancer, Spec, TargetSpec
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from slbsync.targets.base import LiveState
from tests.conftest import REGION, EmulatorHandle

TARGET = "cloud"


def target_spec(emulator: EmulatorHandle, **options: object) -> TargetSpec:
    return TargetSpec(
        name=TARGET,
        type="alibaba-slb",
        region=REGION,
        endpoint=f"http://{emulator.endpoint}",
        options=tuple(
            sorted(
                {"rate": 1000, "burst": 100, "read_retry_seconds": 1, **options}.items()
            )
        ),
    )


@pytest.fixture
def cloud_credentials(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch
) -> EmulatorHandle:
    """The emulator's key pair, handed over the way users do: the environment."""
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    return emulator


@pytest.fixture
def target(cloud_credentials: EmulatorHandle) -> AlibabaSlbTarget:
    return AlibabaSlbTarget(target_spec(cloud_credentials))


def spec_of(*lbs: LoadBalancer, **extra: object) -> Spec:
    return Spec(
        targets=(TargetSpec(name=TARGET, type="alibaba-slb", region=REGION),),
        load_balancers=lbs,
        **extra,  # type: ignore[arg-type]
    )


def plan(
    target: AlibabaSlbTarget, spec: Spec, *, prune: bool = False
) -> tuple[LiveState, list[Change]]:
    """Read, compare and turn the differences into ordered changes."""
    live = target.read_live_state(spec)
    differences = compare(spec, live, target, prune=prune).differences
    return live, order_by_dependency(target.changes_for(differences, live))


def apply_all(target: AlibabaSlbTarget, changes: Sequence[Change]) -> None:
    for change in changes:
        target.apply_change(change)


def converge(target: AlibabaSlbTarget, spec: Spec, *, prune: bool = False) -> None:
    """Apply the plan for ``spec``, then check the next plan is empty."""
    _, changes = plan(target, spec, prune=prune)
    apply_all(target, changes)
    _, again = plan(target, spec, prune=prune)
    assert [c.summary for c in again] == []
