"""Each target brings its own probe through Target.membership_probe."""

from __future__ import annotations

import pytest

from slbsync.membership.probes import Probe, probe_for
from slbsync.spec.model import TargetSpec
from slbsync.targets.registry import make_target

OPTIONS = {
    "alibaba-slb": (("region", "cn-hangzhou"),),
    "aws-elbv2": (("region", "eu-west-1"),),
    "haproxy": (("config_path", "haproxy.cfg"),),
    "nginx": (("config_path", "nginx.conf"),),
}


@pytest.mark.parametrize(
    ("kind", "probe"),
    [
        ("alibaba-slb", "slbsync.targets.alibaba_slb.probe.SlbProbe"),
        ("aws-elbv2", "slbsync.targets.aws_elbv2.probe.ElbProbe"),
        ("haproxy", "slbsync.targets.haproxy.probe.HaproxyProbe"),
        ("nginx", "slbsync.membership.probes.Probe"),  # reports neither
    ],
)
def test_probe_comes_from_the_target_package(kind, probe):
    options = dict(OPTIONS[kind])
    region = options.pop("region", None)
    target = make_target(
        TargetSpec(name="t", type=kind, region=region, options=tuple(options.items()))
    )

    found = probe_for(target, "chat", "ws")

    assert f"{type(found).__module__}.{type(found).__name__}" == probe
    assert isinstance(found, Probe)
    assert (found.lb_name, found.group_name) == ("chat", "ws")
