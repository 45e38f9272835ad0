"""Names and tags that tie AWS resources to the spec.

Target groups are regional and named at most 32 characters, so a group is
known by tags (``slbsync-lb``, ``slbsync-group``) and given a name derived
from its load balancer and group names, shortened with a digest when the
two do not fit.
"""

from __future__ import annotations

import hashlib
import re

from slbsync.targets.base import OWNER_TAG

LB_TAG = "slbsync-lb"
GROUP_TAG = "slbsync-group"
RULE_TAG = "slbsync-rule"  # a listener rule's spec name: ELBv2 rules have none
MAX_NAME = 32
ARN_PREFIX = "arn:"  # a listener's certificate is given by its ARN
NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")


def is_valid_name(name: str) -> bool:
    """A load balancer or target group name AWS accepts."""
    return bool(NAME.fullmatch(name)) and not name.lower().startswith("internal-")


def target_group_name(lb: str, group: str) -> str:
    """The AWS name of group ``group`` of load balancer ``lb``."""
    plain = f"{lb}-{group}"
    if len(plain) <= MAX_NAME and is_valid_name(plain):
        return plain
    digest = hashlib.sha256(f"{lb}/{group}".encode()).hexdigest()[:8]
    stem = re.sub(r"[^A-Za-z0-9-]", "-", plain)[: MAX_NAME - 9].strip("-")
    return f"{stem or 'tg'}-{digest}"


def tag_list(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in pairs]


def owned_tags(owner: str, tags: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    """The ownership tag first, then the spec's own tags."""
    return tag_list([(OWNER_TAG, owner), *[(k, v) for k, v in tags if k != OWNER_TAG]])


def group_tags(
    owner: str, lb: str, group: str, tags: tuple[tuple[str, str], ...]
) -> list[dict[str, str]]:
    marks = [(OWNER_TAG, owner), (LB_TAG, lb), (GROUP_TAG, group)]
    reserved = {OWNER_TAG, LB_TAG, GROUP_TAG}
    return tag_list([*marks, *[(k, v) for k, v in tags if k not in reserved]])


def spec_tags(tags: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """Live tags as the spec writes them: without slbsync's own marks."""
    reserved = {OWNER_TAG, LB_TAG, GROUP_TAG, RULE_TAG}
    return tuple(sorted((k, v) for k, v in tags.items() if k not in reserved))
