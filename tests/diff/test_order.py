from slbsync.diff.changes import Change, ChangeOp, ResourceAddress, ResourceKind
from slbsync.diff.order import order_by_dependency

K = ResourceKind


def _change(op, kind, name, action=None, replacement=False):
    address = ResourceAddress("t", "lb", kind, name)
    return Change(op, address, action or f"{op}-{name}", replacement=replacement)


def _names(changes):
    return [c.address.name for c in changes]


def test_creates_follow_dependency_rank():
    changes = [
        _change(ChangeOp.CREATE, K.LISTENER_STATE, "start"),
        _change(ChangeOp.CREATE, K.RULE, "rule"),
        _change(ChangeOp.CREATE, K.LISTENER, "listener"),
        _change(ChangeOp.CREATE, K.SERVERS, "servers"),
        _change(ChangeOp.CREATE, K.SERVER_GROUP, "group"),
        _change(ChangeOp.CREATE, K.ACL, "acl"),
        _change(ChangeOp.CREATE, K.CERTIFICATE, "cert"),
        _change(ChangeOp.CREATE, K.LOAD_BALANCER, "lb"),
    ]

    assert _names(order_by_dependency(changes)) == [
        "lb",
        "cert",
        "acl",
        "group",
        "servers",
        "listener",
        "rule",
        "start",
    ]


def test_deletes_run_after_creates_in_reverse_rank():
    changes = [
        _change(ChangeOp.DELETE, K.LOAD_BALANCER, "old-lb"),
        _change(ChangeOp.DELETE, K.ACL, "old-acl"),
        _change(ChangeOp.DELETE, K.SERVER_GROUP, "old-group"),
        _change(ChangeOp.DELETE, K.LISTENER, "old-listener"),
        _change(ChangeOp.DELETE, K.LISTENER_STATE, "stop"),
        _change(ChangeOp.UPDATE, K.LISTENER, "moved-listener"),
        _change(ChangeOp.CREATE, K.SERVER_GROUP, "new-group"),
    ]

    assert _names(order_by_dependency(changes)) == [
        "new-group",
        "moved-listener",
        "stop",
        "old-listener",
        "old-group",
        "old-lb",
        "old-acl",
    ]


def test_load_balancer_delete_frees_its_certificate_and_acl_first():
    # SLB refuses to delete a certificate or an ACL a listener still uses;
    # deleting the load balancer takes its listeners along.
    changes = [
        _change(ChangeOp.DELETE, K.CERTIFICATE, "old-cert"),
        _change(ChangeOp.DELETE, K.ACL, "old-acl"),
        _change(ChangeOp.DELETE, K.LOAD_BALANCER, "old-lb"),
        _change(ChangeOp.DELETE, K.LISTENER, "old-listener"),
    ]

    assert _names(order_by_dependency(changes)) == [
        "old-listener",
        "old-lb",
        "old-acl",
        "old-cert",
    ]


def test_same_rank_keeps_adds_before_removes():
    changes = [
        _change(ChangeOp.CREATE, K.SERVERS, "add-1"),
        _change(ChangeOp.CREATE, K.SERVERS, "add-2"),
        _change(ChangeOp.UPDATE, K.SERVERS, "weights"),
        _change(ChangeOp.DELETE, K.SERVERS, "remove"),
    ]

    assert _names(order_by_dependency(changes)) == [
        "add-1",
        "add-2",
        "weights",
        "remove",
    ]


def test_replacement_deletes_the_old_listener_before_creating_the_new():
    changes = [
        _change(ChangeOp.CREATE, K.SERVER_GROUP, "group"),
        _change(ChangeOp.DELETE, K.LISTENER_STATE, "stop-tcp", replacement=True),
        _change(ChangeOp.DELETE, K.LISTENER, "tcp/443", replacement=True),
        _change(ChangeOp.CREATE, K.LISTENER, "https/443", replacement=True),
        _change(ChangeOp.CREATE, K.LISTENER_STATE, "start-https"),
    ]

    assert _names(order_by_dependency(changes)) == [
        "group",
        "stop-tcp",
        "tcp/443",
        "https/443",
        "start-https",
    ]
