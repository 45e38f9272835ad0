"""Which target class serves which ``type`` in a spec."""

from __future__ import annotations

import importlib

from slbsync.errors import SpecError
from slbsync.spec.model import TargetSpec
from slbsync.targets.base import Target

# Imported lazily: a run that only touches nginx should not import cloud SDKs.
TARGET_CLASSES = {
    "alibaba-slb": "slbsync.targets.alibaba_slb.target:AlibabaSlbTarget",
    "nginx": "slbsync.targets.nginx.target:NginxTarget",
    "haproxy": "slbsync.targets.haproxy.target:HaproxyTarget",
    "aws-elbv2": "slbsync.targets.aws_elbv2.target:AwsElbv2Target",
}


def known_target_types() -> list[str]:
    return sorted(TARGET_CLASSES)


def target_class(type_name: str) -> type[Target]:
    """The class for a target type, or a SpecError naming the known types."""
    if type_name not in TARGET_CLASSES:
        known = ", ".join(known_target_types())
        raise SpecError(f'"{type_name}" is not a target type; use one of {known}')
    module_name, _, class_name = TARGET_CLASSES[type_name].partition(":")
    module = importlib.import_module(module_name)
    cls: type[Target] = getattr(module, class_name)
    return cls


def make_target(spec: TargetSpec) -> Target:
    return target_class(spec.type)(spec)
