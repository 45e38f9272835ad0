"""Ids in a plan: the live id when it is known, else a reference by name.

A change whose parent is created earlier in the same run cannot know the
parent's id when the plan is made. Its payload then holds a reference,
``{"$ref": "group", "lb": "chat-gateway", "name": "ws-nodes"}``, which the
target resolves at apply time (from its own earlier outcomes, else by a
lookup by name).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slbsync.diff.changes import ResourceKind
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.spec.model import Certificate
from slbsync.targets.alibaba_slb.names import certificate_id, certificate_upload_name
from slbsync.targets.base import LiveState

REF = "$ref"


def ref(kind: str, name: str, lb: str = "") -> dict[str, str]:
    return {REF: kind, "lb": lb, "name": name}


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and REF in value


class PlanRefs:
    """Ids for the changes of one plan, from the live state it was made from."""

    def __init__(self, live: LiveState, differences: Sequence[Difference]) -> None:
        self.live = live
        # Certificates uploaded in this plan: listeners point at the new upload.
        self.new_certificates: dict[str, Certificate] = {
            d.desired.name: d.desired
            for d in differences
            if d.kind == ResourceKind.CERTIFICATE
            and d.status != DifferenceStatus.UNEXPECTED
        }
        self.new_acls = {
            d.desired.name
            for d in differences
            if d.kind == ResourceKind.ACL and d.status == DifferenceStatus.MISSING
        }

    def load_balancer(self, lb: str) -> Any:
        live_lb = self.live.load_balancer(lb)
        if live_lb is not None and live_lb.id:
            return live_lb.id
        return ref("lb", lb)

    def group(self, lb: str, group: str) -> Any:
        live_lb = self.live.load_balancer(lb)
        found = live_lb.id_of(f"group:{group}") if live_lb else None
        return found or ref("group", group, lb)

    def rule(self, lb: str, label: str) -> Any:
        live_lb = self.live.load_balancer(lb)
        found = live_lb.id_of(f"rule:{label}") if live_lb else None
        return found or ref("rule", label, lb)

    def acl(self, name: str) -> Any:
        if name not in self.new_acls:
            for item in self.live.acls:
                if item.acl.name == name:
                    return item.id
        return ref("acl", name)

    def certificate(self, kind: str, name: str) -> Any:
        """``kind`` is ``certificate`` or ``ca_certificate``."""
        upload_id = certificate_id(name)
        if upload_id:
            return upload_id
        wanted = self.new_certificates.get(name)
        if wanted is not None:
            return ref(kind, certificate_upload_name(name, wanted.fingerprint))
        cert_kind = "server" if kind == "certificate" else "ca"
        for item in self.live.certificates:
            if item.certificate.name == name and item.certificate.kind == cert_kind:
                return item.id
        return ref(kind, name)

    def for_listener(self, lb: str) -> Any:
        """The ``wire.Ref`` function for the listeners of ``lb``."""

        def resolve(kind: str, name: str) -> Any:
            if kind == "group":
                return self.group(lb, name)
            if kind == "acl":
                return self.acl(name)
            return self.certificate(kind, name)

        return resolve


def by_name(kind: str, name: str) -> str:
    """A stand-in id for comparing live and desired parameters by name."""
    return f"{kind}:{name}"
