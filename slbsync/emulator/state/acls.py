"""Access control lists: named sets of CIDR blocks that listeners bind to.

An ACL lives in a region, has a name unique in that region, an IP version
fixed at creation, and up to 300 entries kept in the order they were added.
Listeners refer to an ACL by id (``AclId`` on the listener record), so the
listeners module answers which listeners use one.

Codes the reference leaves open, chosen here and listed in the coverage
document: a name clash is ``AclNameExist`` and the regional quota is
``AclNumberOverLimit`` (both the codes Terraform's provider reacts to);
a missing ACL is ``AclNotExist`` with HTTP 404.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter, MissingParameter
from slbsync.emulator.state.store import Store

ACLS_PER_REGION = 50
ENTRIES_PER_ACL = 300
ENTRIES_PER_CALL = 50
COMMENT_MAX_LENGTH = 256  # not documented; generous so real comments pass
NAME_PATTERN = r"[A-Za-z0-9./_-]{1,80}"
IP_VERSIONS = ("ipv4", "ipv6")


class AclNotFound(ApiError):
    code = "AclNotExist"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="The specified AclId does not exist.")


class AclNameExists(ApiError):
    code = "AclNameExist"

    def __init__(self, name: str) -> None:
        super().__init__(
            message=f'The specified AclName "{name}" already exists in this region.'
        )


class AclNumberOverLimit(ApiError):
    code = "AclNumberOverLimit"

    def __init__(self) -> None:
        super().__init__(
            message="The number of ACLs in this region exceeds the limit: "
            f"{ACLS_PER_REGION}."
        )


class AclEntryExceedLimit(ApiError):
    code = "AclEntryExceedLimit"

    def __init__(self) -> None:
        super().__init__(
            message="The maximum number of ACL entries is exceeded: "
            f"an ACL holds at most {ENTRIES_PER_ACL}."
        )


class AclEntryIllegal(ApiError):
    code = "AclEntryIllegal"

    def __init__(self, detail: str) -> None:
        super().__init__(message=detail)


class AclEntryVersionConflict(ApiError):
    code = "IllegalEntry"

    def __init__(self, entry: str, version: str) -> None:
        super().__init__(
            message="Entry version is conflict to the acl version: "
            f"{entry} is not an {version} CIDR block."
        )


class AclBoundToListener(ApiError):
    code = "OperationFailed.AclBindedWithVip"

    def __init__(self) -> None:
        super().__init__(message="The ACL has binded with vip.")


class AclEntryEmpty(ApiError):
    code = "AclEntryEmpty"

    def __init__(self) -> None:
        super().__init__(message="None of the specified AclEntrys exists in the ACL.")


@dataclass
class AclRecord:
    acl_id: str
    acl_name: str
    region_id: str
    address_ip_version: str
    resource_group_id: str
    create_time: float
    # {"entry": "10.0.0.0/24", "comment": "..."} in the order they were added
    entries: list[dict[str, str]] = field(default_factory=list)


def acls(store: Store) -> dict[str, AclRecord]:
    return store.table("acls", AclRecord)


def get_acl(store: Store, acl_id: str | None) -> AclRecord:
    """The ACL ``acl_id``, or the cloud's refusal."""
    if not acl_id:
        raise MissingParameter("AclId")
    record = acls(store).get(acl_id)
    if record is None:
        raise AclNotFound()
    return record


def acls_in_region(store: Store, region_id: str) -> list[AclRecord]:
    """The region's ACLs, oldest first, as the console lists them."""
    found = [acl for acl in acls(store).values() if acl.region_id == region_id]
    return sorted(found, key=lambda acl: (acl.create_time, acl.acl_id))


def new_acl_id(store: Store) -> str:
    """``acl-`` and 22 lower-case alphanumerics, unique and stable per store."""
    return store.new_id("acl", "acl-")


def check_name_free(store: Store, region_id: str, name: str, own_id: str = "") -> None:
    for acl in acls_in_region(store, region_id):
        if acl.acl_name == name and acl.acl_id != own_id:
            raise AclNameExists(name)


def parse_entries(
    raw: Any, ip_version: str, *, for_removal: bool = False
) -> list[dict[str, str]]:
    """``AclEntrys`` as ``[{"entry", "comment"}]``, each entry a CIDR block.

    Entries are checked against the ACL's IP version and kept in canonical
    form, so ``2001:DB8::/32`` and ``2001:db8::/32`` are one entry; for a
    removal only the JSON shape is checked, since an entry that cannot exist
    is simply absent.
    """
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter(
            "AclEntrys", 'Use a JSON list such as [{"entry":"10.0.0.0/24"}].'
        )
    if len(raw) > ENTRIES_PER_CALL:
        raise InvalidParameter(
            "AclEntrys", f"At most {ENTRIES_PER_CALL} entries are allowed per call."
        )
    entries = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidParameter("AclEntrys", f"{item!r} is not an object.")
        entry = str(item.get("entry", item.get("Entry", ""))).strip()
        comment = str(item.get("comment", item.get("Comment", "")) or "")
        if for_removal:
            entry = _normalised(entry)
        else:
            entry = _check_cidr(entry, ip_version)
            _check_comment(comment)
        entries.append({"entry": entry, "comment": comment})
    return entries


def _normalised(entry: str) -> str:
    """An entry in the form the ACL keeps, if it is a valid block at all."""
    try:
        return str(ipaddress.ip_network(entry, strict=True))
    except ValueError:
        return entry


def _check_cidr(entry: str, ip_version: str) -> str:
    """The entry's canonical form (IPv6 compressed, lower case), once checked."""
    if "/" not in entry:
        raise AclEntryIllegal(
            f'The entry "{entry}" is not a CIDR block; write it as address/prefix, '
            "for example 10.0.0.1/32."
        )
    try:
        network = ipaddress.ip_network(entry, strict=True)
    except ValueError as err:
        detail = f'The entry "{entry}" is not a valid CIDR block: {err}.'
        raise AclEntryIllegal(detail) from None
    if f"ipv{network.version}" != ip_version:
        raise AclEntryVersionConflict(entry, ip_version)
    return str(network)


def _check_comment(comment: str) -> None:
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ApiError(
            "InvalidParam.Comment",
            "The specified comment is invalid: it is longer than "
            f"{COMMENT_MAX_LENGTH} characters.",
        )


def add_entries(acl: AclRecord, entries: list[dict[str, str]]) -> int:
    """Add entries not yet present (existing ones are skipped); the count added."""
    present = {item["entry"] for item in acl.entries}
    fresh = []
    for item in entries:
        if item["entry"] not in present:
            present.add(item["entry"])
            fresh.append(item)
    if len(acl.entries) + len(fresh) > ENTRIES_PER_ACL:
        raise AclEntryExceedLimit()
    acl.entries.extend(fresh)
    return len(fresh)


def remove_entries(acl: AclRecord, entries: list[dict[str, str]]) -> int:
    """Remove the entries present; absent ones are skipped unless all are."""
    doomed = {item["entry"] for item in entries}
    kept = [item for item in acl.entries if item["entry"] not in doomed]
    removed = len(acl.entries) - len(kept)
    if removed == 0:
        raise AclEntryEmpty()
    acl.entries = kept
    return removed
