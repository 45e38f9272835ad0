"""An add refused at the server quota: the group's removes go first."""

import logging

from slbsync.diff.changes import Change, ChangeOp, ResourceAddress, ResourceKind
from slbsync.targets.alibaba_slb.errors import SlbApiError
from slbsync.targets.alibaba_slb.quota import removes_first_at_quota

OVER_QUOTA = SlbApiError(
    "cloud", "AddVServerGroupBackendServers", "InstanceBackendServerNumberOverLimit", ""
)


def _change(op, action, group="ws-nodes", kind=ResourceKind.SERVERS):
    address = ResourceAddress("cloud", "chat", kind, group)
    return Change(op, address, action)


ADD = _change(ChangeOp.CREATE, "AddVServerGroupBackendServers")
WEIGHTS = _change(ChangeOp.UPDATE, "SetVServerGroupAttribute")
REMOVE = _change(ChangeOp.DELETE, "RemoveVServerGroupBackendServers")
OTHER_REMOVE = _change(ChangeOp.DELETE, "RemoveVServerGroupBackendServers", "admin")
LISTENER = _change(ChangeOp.UPDATE, "SetLoadBalancerTCPListenerAttribute", "tcp/443")


def test_group_removes_move_ahead_of_the_add(caplog):
    rest = [WEIGHTS, OTHER_REMOVE, REMOVE, LISTENER]

    with caplog.at_level(logging.WARNING):
        order = removes_first_at_quota(ADD, OVER_QUOTA, rest)

    # Only this group's removes move; the rest keep their order.
    assert order == [REMOVE, ADD, WEIGHTS, OTHER_REMOVE, LISTENER]
    assert "capacity dips for this change" in caplog.text
    assert "removes=1" in caplog.text


def test_no_removes_left_means_no_new_order():
    assert removes_first_at_quota(ADD, OVER_QUOTA, [WEIGHTS, OTHER_REMOVE]) is None


def test_other_errors_and_actions_keep_the_failure():
    busy = SlbApiError("cloud", "AddVServerGroupBackendServers", "InvalidParameter", "")
    assert removes_first_at_quota(ADD, busy, [REMOVE]) is None
    assert removes_first_at_quota(WEIGHTS, OVER_QUOTA, [REMOVE]) is None
