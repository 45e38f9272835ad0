"""A field nginx or HAProxy has nowhere to keep is refused where written."""

from __future__ import annotations

from pathlib import Path

import pytest

from slbsync.spec import fields as f
from slbsync.spec.load import load_spec
from slbsync.spec.target_terms import description_of
from slbsync.targets.base import Target
from slbsync.targets.haproxy.target import HaproxyTarget
from slbsync.targets.nginx.target import NginxTarget
from tests.spec.helpers import problems_of

FILE = "fields_proxies_do_not_keep.yaml"
SHAPES = {
    s.name: s for s in (f.LOAD_BALANCER, f.LISTENER, f.SERVER_GROUP, f.SERVER, f.ACL)
}


def test_nginx_refuses_each_field_it_would_drop():
    found = [p for p in problems_of(FILE) if "nginx." in p]

    assert found == [
        f"{FILE}:9:5 load_balancers.on-nginx.adopt: the nginx target owns every "
        "load balancer in its file, so there is none to adopt; remove adopt",
        f"{FILE}:12:9 load_balancers.on-nginx.server_groups.web.tags: nginx keeps "
        "no tags on a server group; remove tags, or put them in a comment in your "
        "spec",
        f"{FILE}:14:43 load_balancers.on-nginx.server_groups.web.servers[0]."
        "description: nginx keeps no server descriptions; remove description, or "
        "put it in a comment in your spec",
        f"{FILE}:16:54 load_balancers.on-nginx.listeners[0].description: nginx "
        "keeps no listener descriptions; remove description, or put it in a "
        "comment in your spec",
        f"{FILE}:31:5 acls.office-nginx.tags: nginx keeps no tags on an ACL; "
        "remove tags, or put them in a comment in your spec",
    ]


def test_haproxy_refuses_what_it_drops_and_keeps_a_listener_description():
    found = [p for p in problems_of(FILE) if "haproxy." in p]

    # The listener's description (line 25) is rendered, so not refused.
    assert found == [
        f"{FILE}:21:9 load_balancers.on-haproxy.server_groups.web.tags: HAProxy "
        "keeps no tags on a server group; remove tags, or put them in a comment "
        "in your spec",
        f"{FILE}:23:43 load_balancers.on-haproxy.server_groups.web.servers[0]."
        "description: HAProxy keeps no server descriptions; remove description, "
        "or put it in a comment in your spec (a listener's description is kept)",
        f"{FILE}:35:5 acls.office-haproxy.tags: HAProxy keeps no tags on an ACL; "
        "remove tags, or put them in a comment in your spec",
    ]


def test_fields_left_out_or_empty_are_not_refused(tmp_path: Path):
    # The model's defaults are nobody's request, and an empty value is the
    # same as leaving the field out.
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  edge: {type: nginx, config_path: /tmp/slbsync.conf}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: edge\n"
        "    server_groups:\n"
        "      web:\n"
        "        tags:\n"
        "        servers: [{address: 10.0.0.1, port: 80, description: }]\n"
        "    listeners: [{protocol: tcp, port: 80, server_group: web}]\n"
    )

    spec = load_spec([path], environ={})

    assert spec.load_balancers[0].server_groups[0].servers[0].address == "10.0.0.1"


def test_the_same_fields_on_a_cloud_target_are_taken(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets:\n"
        "  cloud: {type: alibaba-slb, region: cn-hangzhou}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: cloud\n"
        "    adopt: true\n"
        "    server_groups:\n"
        "      web:\n"
        "        tags: {app: chat}\n"
        "        servers: [{id: i-1, port: 80, description: canary}]\n"
        "    listeners:\n"
        "      - {protocol: tcp, port: 80, server_group: web, description: chat}\n"
    )

    (lb,) = load_spec([path], environ={}).load_balancers

    assert (lb.adopt, lb.listeners[0].description) == (True, "chat")
    assert lb.server_groups[0].servers[0].description == "canary"


@pytest.mark.parametrize("target", [NginxTarget, HaproxyTarget])
def test_each_unkept_field_is_a_field_of_its_shape(target: type[Target]):
    # A misspelt key would refuse nothing and leave the field dropped in silence.
    for shape_name, keys in target.unkept_fields.items():
        shape = SHAPES[shape_name]
        assert all(shape.field(key) is not None for key in keys), shape_name


def test_reference_names_the_targets_refusing_a_field():
    rule = f.SERVER.field("description")
    assert rule is not None

    assert description_of(rule, f.SERVER).endswith(
        "Not taken by haproxy and nginx targets: refused there."
    )
