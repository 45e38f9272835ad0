"""What to do when an add hits the load balancer's backend server quota.

SLB caps the servers attached to one load balancer (200 by default,
``backendservers-per-slb``), and the quota cannot be read through the
Python SDK (``DescribeSlbQuotas`` is not in it), so a plan cannot see it
coming. A group that swaps servers on a full load balancer plans its adds
before its removes, so that capacity never dips, and the first add is then
refused with ``InstanceBackendServerNumberOverLimit``. Alibaba's own cloud
controller answers that by running the group's removes first and retrying
the add (``shared/reference/slb-api.md`` section 8); so do we, saying so,
since the group serves with fewer servers until the add lands.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slbsync.diff.changes import Change
from slbsync.targets.alibaba_slb.errors import SlbApiError

log = logging.getLogger(__name__)

QUOTA_CODE = "InstanceBackendServerNumberOverLimit"
ADD = "AddVServerGroupBackendServers"
REMOVE = "RemoveVServerGroupBackendServers"


def removes_first_at_quota(
    failed: Change, error: BaseException, rest: Sequence[Change]
) -> list[Change] | None:
    """The group's pending removes, the add again, then the rest; or None.

    None when the add failed for another reason, or when none of the group's
    removes is left to run (they ran already: the add fails as it is).
    """
    if failed.action != ADD or not _is_over_quota(error):
        return None
    removes = [c for c in rest if c.action == REMOVE and c.address == failed.address]
    if not removes:
        return None
    log.warning(
        "apply: load balancer at its backend server quota, removing before "
        "adding so capacity dips for this change: change=%s removes=%d",
        failed.summary,
        len(removes),
    )
    others = [c for c in rest if not any(c is r for r in removes)]
    return [*removes, failed, *others]


def _is_over_quota(error: BaseException) -> bool:
    return isinstance(error, SlbApiError) and error.code == QUOTA_CODE
