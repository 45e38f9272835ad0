"""Dependency order of changes: parents before children, the reverse on delete."""

from __future__ import annotations

from collections.abc import Iterable

from slbsync.diff.changes import Change, ChangeOp, ResourceKind

# Creates and updates run in this order: a listener needs its group, its
# certificate and its ACL; a rule needs its listener; a listener starts last,
# once everything it forwards to is in place.
CREATE_RANK = (
    ResourceKind.LOAD_BALANCER,
    ResourceKind.CERTIFICATE,
    ResourceKind.ACL,
    ResourceKind.SERVER_GROUP,
    ResourceKind.SERVERS,
    ResourceKind.LISTENER,
    ResourceKind.RULE,
    ResourceKind.LISTENER_STATE,
)
_RANK = {kind: index for index, kind in enumerate(CREATE_RANK)}
# Deletes run in reverse, except a load balancer's: deleting one takes its
# listeners along, which frees the certificates and ACLs they used, and SLB
# refuses to delete a certificate or ACL a listener still uses.
DELETE_RANK = (
    ResourceKind.LISTENER_STATE,
    ResourceKind.RULE,
    ResourceKind.LISTENER,
    ResourceKind.SERVERS,
    ResourceKind.SERVER_GROUP,
    ResourceKind.LOAD_BALANCER,
    ResourceKind.ACL,
    ResourceKind.CERTIFICATE,
)
_DELETE_RANK = {kind: index for index, kind in enumerate(DELETE_RANK)}


def order_by_dependency(changes: Iterable[Change]) -> list[Change]:
    """Creates and updates by rank, then deletes in reverse rank.

    A listener is stopped and deleted before the group it forwards to, a
    group before the ACL or certificate it uses; a load balancer before
    the ACLs and certificates, since its listeners go with it.
    Within one rank the target's order is kept (it puts adds before removes
    so capacity never dips). The delete half of a replacement runs with the
    creates, just before its new half, since the new resource needs the
    place (a listener port) the old one holds.
    """
    forward: list[tuple[int, int, int, Change]] = []
    backward: list[tuple[int, int, int, Change]] = []
    for index, change in enumerate(changes):
        rank = _RANK[change.address.kind]
        if change.op != ChangeOp.DELETE:
            forward.append((rank, 1, index, change))
        elif change.replacement:
            # Stopping the old listener belongs with deleting it.
            rank = min(rank, _RANK[ResourceKind.LISTENER])
            forward.append((rank, 0, index, change))
        else:
            backward.append((_DELETE_RANK[change.address.kind], 0, index, change))
    return [item[-1] for item in sorted(forward)] + [
        item[-1] for item in sorted(backward)
    ]
