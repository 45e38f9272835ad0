import json
from dataclasses import replace

import pytest

from slbsync.errors import PlanError, StalePlanError
from slbsync.plan.make import make_plan
from slbsync.plan.saved import check_fresh, load_saved_plan, save_plan
from slbsync.spec.model import Server
from tests.fakes import FakeTarget, make_lb, make_spec


def _saved(tmp_path, target, spec):
    path = tmp_path / "plan.json"
    save_plan(make_plan(spec, [target]), path)
    return load_saved_plan(path)


def test_saved_plan_holds_documents_payloads_and_fingerprints(tmp_path):
    target = FakeTarget()
    spec = make_spec(make_lb())
    spec = replace(spec, documents=({"load_balancers": {}},))

    saved = _saved(tmp_path, target, spec)

    assert saved.documents == [("<spec>", {"load_balancers": {}})]
    changes = saved.changes()["fake"]
    assert changes[0]["action"] == "CreateLoadBalancer"
    assert "payload" in changes[0]
    assert saved.fingerprints() == {"fake": target.read_live_state(spec).fingerprint()}


def test_unmoved_state_passes(tmp_path):
    target = FakeTarget()
    spec = make_spec(make_lb())
    saved = _saved(tmp_path, target, spec)

    check_fresh(saved, make_plan(spec, [target]))


def test_moved_state_is_stale(tmp_path):
    target = FakeTarget()
    target.seed(make_lb())
    spec = make_spec(make_lb(servers=3))
    saved = _saved(tmp_path, target, spec)

    # Someone adds a server by hand after the plan was saved.
    live = target.lbs["chat"]
    group = live.spec.server_groups[0]
    extra = (*group.servers, Server(port=8080, id="i-hand"))
    live.spec = live.spec.__class__(
        **{
            **live.spec.__dict__,
            "server_groups": (group.__class__(name="ws", servers=extra),),
        }
    )

    with pytest.raises(StalePlanError) as caught:
        check_fresh(saved, make_plan(spec, [target]))
    assert "the live state changed since this plan was made" in str(caught.value)
    assert "run slbsync plan again" in str(caught.value)


def test_other_changes_from_the_same_state_are_refused(tmp_path):
    target = FakeTarget()
    saved = _saved(tmp_path, target, make_spec(make_lb(servers=2)))

    with pytest.raises(PlanError, match="gives other changes for target fake"):
        check_fresh(saved, make_plan(make_spec(make_lb(servers=5)), [target]))


def test_a_file_that_is_not_a_plan_is_refused(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text("{not json")
    with pytest.raises(PlanError, match=r"plan.json:1:2: not a saved plan"):
        load_saved_plan(path)
    path.write_text(json.dumps({"format_version": 1}))
    with pytest.raises(PlanError, match="no spec documents"):
        load_saved_plan(path)
    with pytest.raises(PlanError, match="cannot read the saved plan"):
        load_saved_plan(tmp_path / "missing.json")
