import json

from slbsync.plan.document import FORMAT_VERSION
from slbsync.plan.make import make_plan
from slbsync.plan.render import render_json, render_markdown, render_text
from slbsync.spec.model import HealthCheck, Listener, Protocol
from tests.fakes import FakeTarget, make_lb, make_spec


def _small_plan():
    target = FakeTarget()
    target.seed(make_lb(servers=3))
    target.seed(make_lb("old"))
    check = HealthCheck(interval=5)
    listener = Listener(
        protocol=Protocol.TCP,
        port=443,
        server_group="ws",
        connection_drain=300,
        health_check=check,
    )
    spec = make_spec(make_lb(servers=4, listeners=(listener,)))
    plan = make_plan(spec, [target], prune=True)
    return plan


TEXT = """\
slbsync plan   (target fake: fake)

~ load balancer chat (lb-0001)
  + members of ws                                   AddServers
      i-003:8080  100
  ~ listener tcp/443 (lb-0001/tcp/443)              SetListener
      connection_drain       300
      health_check.interval  2 -> 5

- load balancer old (lb-0002)                       DeleteLoadBalancer

! needs --force: target fake: removes 2 of 2 servers (100%) from server group {LONG}
! needs --force: target fake: deletes listener old tcp/443

0 to add, 2 to change, 1 to delete; 3 API calls to write.
Read 4 API calls (2 group attributes, 1 list, 1 listeners).
"""


def test_text_shows_fields_actions_and_budget():
    expected = TEXT.replace("{LONG}", "old/ws, over the 30% limit")

    assert render_text(_small_plan()) == expected


def test_text_is_coloured_only_when_asked():
    plain = render_text(_small_plan())
    coloured = render_text(_small_plan(), colour=True)

    assert "\x1b[" not in plain
    assert "\x1b[31m-\x1b[0m load balancer old" in coloured


def test_empty_plan_says_nothing_to_do():
    target = FakeTarget()
    target.seed(make_lb())

    text = render_text(make_plan(make_spec(make_lb()), [target]))

    assert "No changes: the live state matches the spec." in text
    assert "0 to add, 0 to change, 0 to delete; 0 API calls to write." in text


def test_json_is_stable_and_versioned():
    document = json.loads(render_json(_small_plan()))

    assert document["format_version"] == FORMAT_VERSION
    assert document["summary"]["write_calls"] == 3
    assert document["summary"]["reads"] == {
        "list": 1,
        "listeners": 1,
        "group attributes": 2,
    }
    (target,) = document["targets"]
    change = target["changes"][1]
    assert change == {
        "op": "update",
        "target": "fake",
        "load_balancer": "chat",
        "kind": "listener",
        "name": "tcp/443",
        "action": "SetListener",
        "live_id": "lb-0001/tcp/443",
        "replacement": False,
        "note": "",
        "fields": [
            {"field": "connection_drain", "old": None, "new": 300},
            {"field": "health_check.interval", "old": 2, "new": 5},
        ],
    }
    assert "payload" not in change
    assert "documents" not in document
    assert document["needs_force"][1] == "target fake: deletes listener old tcp/443"


def test_markdown_is_a_table_per_target():
    text = render_markdown(_small_plan())

    assert text.splitlines()[:6] == [
        "### slbsync plan",
        "",
        "**target fake: fake**",
        "",
        "| | resource | call | fields |",
        "|---|---|---|---|",
    ]
    assert "| `-` | load balancer old | `DeleteLoadBalancer` |  |" in text
    assert "health_check.interval  2 -> 5" in text
    assert "**Needs attention before apply:**" in text
