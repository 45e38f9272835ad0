"""Differences to changes: one SLB API call each, the fewest calls.

``ChangeBuilder.build`` walks the differences ``diff.compare`` found and
emits changes in an order ``diff.order.order_by_dependency`` keeps within a
rank: adds before weight changes before removes. What the API cannot do
(move a load balancer to another network, delete a protected one) is
collected and raised as one ``PlanError`` naming every case.

The listener, group, server and rule halves live in ``changes_children``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    FieldChange,
    ResourceAddress,
    ResourceKind,
)
from slbsync.diff.changes import (
    call_change as change,
)
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.spec.model import Acl, AclEntry, Certificate, LoadBalancer
from slbsync.targets.alibaba_slb.names import certificate_upload_name, client_token
from slbsync.targets.alibaba_slb.refs import PlanRefs, ref
from slbsync.targets.base import OWNER_TAG, LiveLoadBalancer, LiveState

MISSING = DifferenceStatus.MISSING
MODIFIED = DifferenceStatus.MODIFIED
UNEXPECTED = DifferenceStatus.UNEXPECTED

ACL_ENTRIES_PER_CALL = 50
TAGS_PER_CALL = 20

# Load balancer fields SLB fixes at creation.
FIXED_AT_CREATION = (
    "address_type",
    "address_ip_version",
    "vswitch_id",
    "vpc_id",
    "master_zone_id",
    "slave_zone_id",
)


@dataclass
class PlanContext:
    """What every part of one plan shares: ids, owner, region, refusals."""

    target: str
    owner: str
    region: str
    live: LiveState
    refs: PlanRefs
    refusals: list[str] = field(default_factory=list)
    # Owned load balancers the spec no longer names that the plan keeps:
    # their listeners may hold an old certificate upload in use.
    kept_unnamed: tuple[LiveLoadBalancer, ...] = ()

    def address(self, lb: str, kind: ResourceKind, name: str) -> ResourceAddress:
        return ResourceAddress(self.target, lb, kind, name)

    def refuse(self, address: ResourceAddress, message: str) -> None:
        self.refusals.append(f"{address}: {message}")

    def upload_users(self, upload_id: str | None) -> list[str]:
        """Kept load balancers whose listeners use ``upload_id``, or may (not
        read); SLB refuses to delete a certificate a listener uses."""
        users = []
        for lb in self.kept_unnamed:
            if lb.certificate_uses is None:
                users.append(f"{lb.spec.name} (listeners not read)")
            else:
                labels = [label for label, i in lb.certificate_uses if i == upload_id]
                users += [f"{lb.spec.name} {label}" for label in labels]
        return users


def owner_tags(
    ctx: PlanContext, tags: Sequence[tuple[str, str]]
) -> list[dict[str, str]]:
    """The ownership tag first, then the spec's tags, as the create calls take them."""
    pairs = [(OWNER_TAG, ctx.owner), *[(k, v) for k, v in tags if k != OWNER_TAG]]
    return [{"Key": key, "Value": value} for key, value in pairs]


def fields_of(difference: Difference, skip: Sequence[str] = ()) -> list[FieldChange]:
    return [f for f in difference.fields if f.field not in skip]


def created_fields(obj: Any, skip: Sequence[str] = ()) -> list[FieldChange]:
    """Every set field of a new resource, as old None and new value."""
    from slbsync.diff.compare import flatten

    return [
        FieldChange(name, None, value)
        for name, value in sorted(flatten(obj).items())
        if value not in (None, (), [], "") and name.split(".")[0] not in skip
    ]


# -- load balancers -----------------------------------------------------------


def load_balancer_changes(ctx: PlanContext, diff: Difference) -> list[Change]:
    if diff.status == MISSING:
        return [_create_load_balancer(ctx, diff.desired)]
    if diff.status == UNEXPECTED:
        return _delete_load_balancer(ctx, diff)
    return _update_load_balancer(ctx, diff)


def _create_load_balancer(ctx: PlanContext, lb: LoadBalancer) -> Change:
    params: dict[str, Any] = {
        "LoadBalancerName": lb.name,
        "AddressType": lb.address_type,
        "AddressIPVersion": lb.address_ip_version,
        "InstanceChargeType": lb.instance_charge_type,
        "InternetChargeType": lb.internet_charge_type,
        "DeleteProtection": "on" if lb.deletion_protection else "off",
        "ModificationProtectionStatus": _protection(lb.modification_protection),
        "ClientToken": client_token(ctx.owner, ctx.region, lb.name),
        "Tag": owner_tags(ctx, lb.tags),
    }
    optional = {
        "VSwitchId": lb.vswitch_id,
        "VpcId": lb.vpc_id,
        "LoadBalancerSpec": lb.spec,
        "Bandwidth": lb.bandwidth,
        "ModificationProtectionReason": lb.modification_protection_reason,
        "ResourceGroupId": lb.resource_group_id,
        "MasterZoneId": lb.master_zone_id,
        "SlaveZoneId": lb.slave_zone_id,
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    address = ctx.address(lb.name, ResourceKind.LOAD_BALANCER, lb.name)
    skip = ("name", "target", "server_groups", "listeners", "adopt")
    return change(
        ChangeOp.CREATE,
        address,
        "CreateLoadBalancer",
        params,
        fields=created_fields(lb, skip),
        lb=lb.name,
        note="tagged as owned in the create call",
    )


def _protection(on: bool) -> str:
    return "ConsoleProtection" if on else "NonProtection"


def _delete_load_balancer(ctx: PlanContext, diff: Difference) -> list[Change]:
    lb: LoadBalancer = diff.live
    address = diff.address
    if lb.deletion_protection:
        ctx.refuse(
            address,
            f"delete protection is on for {diff.live_id}, so the cloud refuses to delete it; set deletion_protection: false for it in the spec, apply, then remove it from the spec",  # noqa: E501
        )
        return []
    return [
        change(
            ChangeOp.DELETE,
            address,
            "DeleteLoadBalancer",
            {"LoadBalancerId": diff.live_id},
            fields=[FieldChange("name", lb.name, None)],
            live_id=diff.live_id,
            lb=lb.name,
            note="its listeners and server groups go with it",
        )
    ]


def _update_load_balancer(ctx: PlanContext, diff: Difference) -> list[Change]:
    want: LoadBalancer = diff.desired
    have: LoadBalancer = diff.live
    names = {f.field: f for f in diff.fields}
    fixed = [name for name in FIXED_AT_CREATION if name in names]
    if fixed:
        moves = ", ".join(
            f"{name} {names[name].old!r} -> {names[name].new!r}" for name in fixed
        )
        ctx.refuse(
            diff.address,
            f"{moves} cannot change on a live load balancer; create a new load balancer under another name and move traffic by hand (slbsync never deletes a load balancer to change it)",  # noqa: E501
        )
        return []
    lb_id = ctx.refs.load_balancer(want.name)
    steps = []
    # Adopting and retagging share one TagResources: the ownership tag
    # rides along with the spec's tags.
    tag_fields = [names[n] for n in ("owned", "tags") if n in names]
    if tag_fields:
        extra = [(OWNER_TAG, ctx.owner)] if "owned" in names else []
        steps.extend(
            tag_changes(
                ctx, diff, "instance", lb_id, have.tags, want.tags, tag_fields, extra
            )
        )
    if "deletion_protection" in names:
        steps.append(
            _lb_call(
                diff,
                "SetLoadBalancerDeleteProtection",
                {"DeleteProtection": "on" if want.deletion_protection else "off"},
                [names["deletion_protection"]],
            )
        )
    protection = [
        names[n]
        for n in ("modification_protection", "modification_protection_reason")
        if n in names
    ]
    if protection:
        params: dict[str, Any] = {
            "ModificationProtectionStatus": _protection(want.modification_protection)
        }
        if want.modification_protection and want.modification_protection_reason:
            params["ModificationProtectionReason"] = want.modification_protection_reason
        steps.append(
            _lb_call(diff, "SetLoadBalancerModificationProtection", params, protection)
        )
    steps.extend(_billing_changes(ctx, diff, want, have, names))
    if "resource_group_id" in names and want.resource_group_id:
        steps.append(
            change(
                ChangeOp.UPDATE,
                diff.address,
                "MoveResourceGroup",
                {
                    "ResourceId": lb_id,
                    "ResourceType": "loadbalancer",
                    "NewResourceGroupId": want.resource_group_id,
                },
                fields=[names["resource_group_id"]],
                live_id=diff.live_id,
                lb=want.name,
            )
        )
    return steps


def _billing_changes(
    ctx: PlanContext,
    diff: Difference,
    want: LoadBalancer,
    have: LoadBalancer,
    names: dict[str, FieldChange],
) -> list[Change]:
    steps = []
    if "instance_charge_type" in names:
        if want.instance_charge_type != "PayByCLCU":
            ctx.refuse(
                diff.address,
                f"instance_charge_type can only change to PayByCLCU (it is {have.instance_charge_type}); pay-by-spec cannot be chosen again",  # noqa: E501
            )
            return []
        steps.append(
            _lb_call(
                diff,
                "ModifyLoadBalancerInstanceChargeType",
                {"InstanceChargeType": "PayByCLCU"},
                [names["instance_charge_type"]],
            )
        )
    if "spec" in names and want.spec:
        steps.append(
            _lb_call(
                diff,
                "ModifyLoadBalancerInstanceSpec",
                {"LoadBalancerSpec": want.spec},
                [names["spec"]],
            )
        )
    internet = [names[n] for n in ("internet_charge_type", "bandwidth") if n in names]
    if internet:
        params: dict[str, Any] = {"InternetChargeType": want.internet_charge_type}
        if want.bandwidth is not None:
            params["Bandwidth"] = want.bandwidth
        steps.append(_lb_call(diff, "ModifyLoadBalancerInternetSpec", params, internet))
    return steps


def _lb_call(
    diff: Difference,
    action: str,
    params: dict[str, Any],
    fields: Sequence[FieldChange],
) -> Change:
    lb_name = diff.address.load_balancer
    lb_id = diff.live_id or ref("lb", lb_name)
    return change(
        ChangeOp.UPDATE,
        diff.address,
        action,
        {"LoadBalancerId": lb_id, **params},
        fields=fields,
        live_id=diff.live_id,
        lb=lb_name,
    )


def _tag(
    ctx: PlanContext,
    diff: Difference,
    resource_type: str,
    resource_id: Any,
    tags: Sequence[tuple[str, str]],
    fields: Sequence[FieldChange],
) -> Change:
    return change(
        ChangeOp.UPDATE,
        diff.address,
        "TagResources",
        {
            "ResourceType": resource_type,
            "ResourceId": [resource_id],
            "Tag": [{"Key": k, "Value": v} for k, v in tags],
        },
        fields=fields,
        live_id=diff.live_id,
        lb=diff.address.load_balancer,
    )


def tag_changes(
    ctx: PlanContext,
    diff: Difference,
    resource_type: str,
    resource_id: Any,
    have: Sequence[tuple[str, str]],
    want: Sequence[tuple[str, str]],
    fields: Sequence[FieldChange],
    extra: Sequence[tuple[str, str]] = (),
) -> list[Change]:
    """TagResources for new or changed tags (and ``extra`` ones), 20 a call;
    UntagResources for dropped keys."""
    old, new = dict(have), dict(want)
    added = [*extra, *sorted((k, v) for k, v in new.items() if old.get(k) != v)]
    dropped = sorted(k for k in old if k not in new and k != OWNER_TAG)
    steps = [
        _tag(
            ctx,
            diff,
            resource_type,
            resource_id,
            added[i : i + TAGS_PER_CALL],
            fields,
        )
        for i in range(0, len(added), TAGS_PER_CALL)
    ]
    for i in range(0, len(dropped), TAGS_PER_CALL):
        steps.append(
            change(
                ChangeOp.UPDATE,
                diff.address,
                "UntagResources",
                {
                    "ResourceType": resource_type,
                    "ResourceId": [resource_id],
                    "TagKey": dropped[i : i + TAGS_PER_CALL],
                },
                fields=list(fields) if not added else [],
                live_id=diff.live_id,
                lb=diff.address.load_balancer,
            )
        )
    return steps


# -- ACLs --------------------------------------------------------------------


def acl_changes(ctx: PlanContext, diff: Difference) -> list[Change]:
    if diff.status == MISSING:
        acl: Acl = diff.desired
        create = change(
            ChangeOp.CREATE,
            diff.address,
            "CreateAccessControlList",
            {
                "AclName": acl.name,
                "AddressIPVersion": acl.address_ip_version,
                "Tag": owner_tags(ctx, acl.tags),
            },
            fields=created_fields(acl, ("name", "target", "entries")),
            acl=acl.name,
        )
        acl_id = ref("acl", acl.name)
        return [
            create,
            *_entry_calls(diff, "AddAccessControlListEntry", acl_id, acl.entries),
        ]
    if diff.status == UNEXPECTED:
        return [
            change(
                ChangeOp.DELETE,
                diff.address,
                "DeleteAccessControlList",
                {"AclId": diff.live_id},
                fields=[FieldChange("name", diff.live.name, None)],
                live_id=diff.live_id,
                acl=diff.live.name,
            )
        ]
    return _update_acl(ctx, diff)


def _update_acl(ctx: PlanContext, diff: Difference) -> list[Change]:
    want: Acl = diff.desired
    have: Acl = diff.live
    names = {f.field: f for f in diff.fields}
    if "address_ip_version" in names:
        ctx.refuse(
            diff.address,
            "address_ip_version cannot change on a live ACL; give the ACL a new name in the spec so slbsync creates a new one",  # noqa: E501
        )
        return []
    steps: list[Change] = []
    if "entries" in names:
        old = {e.cidr: e for e in have.entries}
        new = {e.cidr: e for e in want.entries}
        # Same CIDR, new comment: the add would be skipped as a duplicate,
        # so that entry is removed first and added again.
        recomment = [e for c, e in new.items() if c in old and old[c] != e]
        adds = [e for c, e in new.items() if c not in old]
        removes = [e for c, e in old.items() if c not in new]
        steps += _entry_calls(
            diff,
            "RemoveAccessControlListEntry",
            diff.live_id,
            [old[e.cidr] for e in recomment],
        )
        steps += _entry_calls(
            diff, "AddAccessControlListEntry", diff.live_id, recomment + adds
        )
        steps += _entry_calls(
            diff, "RemoveAccessControlListEntry", diff.live_id, removes
        )
    if "tags" in names:
        steps += tag_changes(
            ctx, diff, "acl", diff.live_id, have.tags, want.tags, [names["tags"]]
        )
    return steps


def _entry_calls(
    diff: Difference, action: str, acl_id: Any, entries: Sequence[AclEntry]
) -> list[Change]:
    adding = action.startswith("Add")
    steps = []
    for i in range(0, len(entries), ACL_ENTRIES_PER_CALL):
        batch = entries[i : i + ACL_ENTRIES_PER_CALL]
        fields = [
            FieldChange(
                f"entries[{e.cidr}]",
                None if adding else e.comment,
                e.comment if adding else None,
            )
            for e in batch
        ]
        steps.append(
            change(
                ChangeOp.UPDATE if diff.status == MODIFIED else ChangeOp.CREATE,
                diff.address,
                action,
                {
                    "AclId": acl_id,
                    "AclEntrys": [
                        {"entry": e.cidr, "comment": e.comment} for e in batch
                    ],
                },
                fields=fields,
                live_id=diff.live_id,
                acl=diff.address.name,
            )
        )
    return steps


# -- certificates ------------------------------------------------------------


def certificate_changes(ctx: PlanContext, diff: Difference) -> list[Change]:
    if diff.status == UNEXPECTED:
        return [_delete_certificate(diff, diff.live, diff.live_id, replacement=False)]
    cert: Certificate = diff.desired
    upload = _upload_certificate(ctx, diff, cert)
    if diff.status == MISSING:
        return [upload]
    # An uploaded certificate cannot change: new content is a new upload,
    # listeners move to it, and the old upload goes once nothing uses it.
    steps = [upload]
    owned = any(
        item.owned and item.id == diff.live_id for item in ctx.live.certificates
    )
    users = ctx.upload_users(diff.live_id) if owned else []
    if owned and not users:
        steps.append(
            _delete_certificate(
                diff, diff.live, diff.live_id, replacement=False, old_upload=True
            )
        )
    elif users:
        # A load balancer the spec no longer names is not re-pointed, so the
        # upload stays; a later plan deletes it once nothing uses it.
        kept = f"the previous upload {diff.live_id} stays: {', '.join(users)} uses it (not in the spec; --prune deletes it), and a later plan deletes the upload once nothing uses it"  # noqa: E501
        steps[0] = replace(steps[0], note=f"{steps[0].note}; {kept}")
    return steps


def old_upload_changes(ctx: PlanContext) -> list[Change]:
    """Deletes of owned uploads a spec certificate replaced, once unused.

    A rotation keeps the old upload while a load balancer the spec no longer
    names uses it; this is the later plan that deletes it.
    """
    # Listeners of load balancers slbsync does not own are never read, so an
    # old upload one of them uses is planned for deletion all the same; SLB
    # refuses that delete, and the applier then tags the upload as kept
    # (names.KEPT_UPLOAD_TAG), which later plans leave alone.
    steps = []
    for live_cert in ctx.live.certificates:
        cert = live_cert.certificate
        address = ctx.address("", ResourceKind.CERTIFICATE, cert.name)
        diff = Difference(UNEXPECTED, address, live=cert)
        for upload_id, fingerprint in live_cert.old_uploads:
            if not ctx.upload_users(upload_id):
                old = replace(cert, fingerprint=fingerprint)
                steps.append(
                    _delete_certificate(
                        diff, old, upload_id, replacement=False, old_upload=True
                    )
                )
    return steps


def _upload_certificate(
    ctx: PlanContext, diff: Difference, cert: Certificate
) -> Change:
    upload_name = certificate_upload_name(cert.name, cert.fingerprint)
    if cert.kind == "ca":
        action = "UploadCACertificate"
        params: dict[str, Any] = {"CACertificateName": upload_name}
    else:
        action = "UploadServerCertificate"
        params = {"ServerCertificateName": upload_name}
    # The PEM files are read at apply time; the private key never enters
    # a payload, a plan file or a log.
    params["Tag"] = owner_tags(ctx, ())
    fields = [
        FieldChange(
            "fingerprint", getattr(diff.live, "fingerprint", None), cert.fingerprint
        )
    ]
    return change(
        ChangeOp.CREATE,
        diff.address,
        action,
        params,
        fields=fields,
        certificate_file=cert.certificate_file,
        private_key_file=cert.private_key_file,
        upload_name=upload_name,
        kind=cert.kind,
        note=f"uploaded as {upload_name}",
    )


def _delete_certificate(
    diff: Difference,
    cert: Certificate,
    live_id: str | None,
    *,
    replacement: bool,
    old_upload: bool = False,
) -> Change:
    if cert.kind == "ca":
        action, params = "DeleteCACertificate", {"CACertificateId": live_id}
    else:
        action, params = "DeleteServerCertificate", {"ServerCertificateId": live_id}
    return change(
        ChangeOp.DELETE,
        diff.address,
        action,
        params,
        fields=[FieldChange("fingerprint", cert.fingerprint, None)],
        live_id=live_id,
        replacement=replacement,
        kind=cert.kind,
        note="the previous upload, once no listener uses it",
        **({"old_upload": True} if old_upload else {}),
    )
