"""Names and ids slbsync derives: upload names, client tokens, tag reading."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

from slbsync.targets.base import OWNER_TAG

CLIENT_TOKEN_LENGTH = 64
_UPLOAD_SUFFIX = re.compile(r"^(?P<name>.+)-(?P<fp>[0-9a-f]{12})$")


def client_token(owner: str, region: str, name: str) -> str:
    """The ``ClientToken`` of a load balancer's create call.

    Derived from the resource's identity (owner, region, name) alone, so a
    retry from another process sends the same token and the cloud answers
    with the load balancer it already made instead of a second one.
    """
    digest = hashlib.sha256(f"{owner}\n{region}\n{name}".encode()).hexdigest()
    return f"slbsync-{digest}"[:CLIENT_TOKEN_LENGTH]


def certificate_upload_name(name: str, fingerprint: str) -> str:
    """An uploaded certificate's name: the spec name and its fingerprint.

    An uploaded certificate cannot change, so new content is a new upload;
    the fingerprint in the name keeps versions apart.
    """
    digits = re.sub(r"[^0-9a-f]", "", fingerprint.lower())[:12].ljust(12, "0")
    return f"{name[:67]}-{digits}"


def certificate_spec_name(upload_name: str) -> str:
    """The spec name an uploaded certificate stands for."""
    match = _UPLOAD_SUFFIX.match(upload_name)
    return match["name"] if match else upload_name


CERTIFICATE_ID_PREFIX = "id:"
"""A listener's ``certificate: id:<certificate id>`` names an upload by id.

Certificates cannot be downloaded with their keys, so a listener can point
at one uploaded by other means (the console, another tool) by its id; the
spec then has no entry under ``certificates`` for it.
"""


def certificate_id(reference: str | None) -> str | None:
    """The upload id in ``id:<id>``; None for the name of a spec certificate."""
    if reference and reference.startswith(CERTIFICATE_ID_PREFIX):
        return reference[len(CERTIFICATE_ID_PREFIX) :]
    return None


def listener_id(lb_id: str, protocol: str, port: int) -> str:
    """How slbsync names a listener (it has no id of its own)."""
    return f"{lb_id}/{protocol}/{port}"


def tags_of(item: dict[str, Any]) -> list[tuple[str, str]]:
    """Tags of a Describe item, in either of the SDK's two shapes."""
    raw: Any = item.get("Tags") or []
    if isinstance(raw, dict):
        raw = raw.get("Tag") or []
    return [
        (
            str(tag.get("TagKey") or tag.get("Key")),
            str(tag.get("TagValue") or tag.get("Value") or ""),
        )
        for tag in raw
        if isinstance(tag, dict)
    ]


def owner_tag(tags: Iterable[tuple[str, str]]) -> str | None:
    return next((value for key, value in tags if key == OWNER_TAG), None)


KEPT_UPLOAD_TAG = "slbsync-kept"
"""Marks an old certificate upload that a listener slbsync does not read
still uses: SLB refused its delete, so later plans leave it alone."""


def is_kept_upload(item: dict[str, Any]) -> bool:
    return any(key == KEPT_UPLOAD_TAG for key, _ in tags_of(item))
