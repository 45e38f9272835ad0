from __future__ import annotations

import pytest

from slbsync.spec import model
from slbsync.spec.load import load_spec, load_spec_documents
from slbsync.spec.problems import SpecValidationError
from tests.spec.helpers import FIXTURES, fixture, problems_of


def test_full_spec_loads_every_field():
    spec = load_spec([fixture("valid_full.yaml")], environ={})

    gateway = next(lb for lb in spec.load_balancers if lb.name == "chat-gateway")
    assert gateway.target == "cloud"
    assert gateway.address_type == "intranet"
    assert gateway.spec == "slb.s2.small"
    assert gateway.bandwidth == 100
    assert gateway.modification_protection_reason == "Managed by slbsync"
    assert gateway.tags == (("app", "chat"), ("tier", "2"))
    assert gateway.adopt is True

    tcp = gateway.listeners[0]
    assert tcp.protocol is model.Protocol.TCP
    assert tcp.scheduler == "least_connections"
    assert tcp.connection_drain == 300
    assert tcp.established_timeout == 900
    assert tcp.acl == model.AclBinding("office", "white")
    assert tcp.health_check.http_codes == ("http_2xx", "http_3xx")
    assert tcp.health_check.unhealthy_threshold == 2
    http = gateway.listeners[2]
    assert http.sticky_session == model.StickySession("insert", None, 3600)
    assert http.x_forwarded_for == model.XForwardedFor(slb_ip=True, proto=True)
    assert http.request_timeout == 60
    assert [r.name for r in http.rules] == ["api", "ws"]
    assert gateway.listeners[3].health_check == model.HealthCheck(enabled=False)


def test_servers_keep_id_address_and_type():
    spec = load_spec([fixture("valid_full.yaml")], environ={})
    group = _gateway(spec).server_group("api")

    assert group is not None
    assert [(s.id, s.address, s.type) for s in group.servers] == [
        ("i-bp1api01", None, model.ServerType.ECS),
        ("eni-bp1api02", "10.0.0.12", model.ServerType.ENI),
        ("eci-bp1api03", "10.0.0.13", model.ServerType.ECI),
    ]
    assert group.servers[0].location == model.Location(
        fixture("valid_full.yaml"), 46, 13
    )


def test_left_out_fields_take_the_model_defaults():
    spec = load_spec([fixture("valid_full.yaml")], environ={})
    edge = next(lb for lb in spec.load_balancers if lb.name == "chat-edge")
    listener = edge.listeners[0]

    bare_lb = model.LoadBalancer(name=edge.name, target="edge")
    bare = model.Listener(model.Protocol.TCP, 443, server_group="ws-nodes")
    assert edge.address_type == bare_lb.address_type
    assert edge.instance_charge_type == "PayByCLCU" == bare_lb.instance_charge_type
    assert listener.bandwidth == bare.bandwidth
    assert listener.persistence_timeout == bare.persistence_timeout
    assert listener.health_check == bare.health_check
    assert edge.server_groups[0].servers[0].weight == 100


def test_health_check_type_follows_the_protocol_when_left_out():
    spec = load_spec([fixture("valid_full.yaml")], environ={})
    listeners = _gateway(spec).listeners

    assert [li.health_check.type for li in listeners] == [
        "http",
        "udp",
        "http",
        "tcp",
    ]


def test_acl_entries_are_normalised_blocks():
    spec = load_spec([fixture("valid_full.yaml")], environ={})

    assert spec.acls[0].entries == (
        model.AclEntry("10.0.0.0/8"),
        model.AclEntry("192.168.1.0/24", "office"),
        model.AclEntry("172.16.0.1/32"),
    )


def test_target_options_keep_type_specific_keys():
    spec = load_spec([fixture("valid_full.yaml")], environ={})

    assert spec.target("cloud").option("owner") == "chat-team"
    edge = spec.target("edge")
    assert edge.option("runtime_socket") == "/run/haproxy/admin.sock"
    assert edge.region is None


def test_folder_is_read_recursively_and_merged():
    spec = load_spec([fixture("merge")], environ={})

    assert [lb.name for lb in spec.load_balancers] == ["chat-admin", "chat-gateway"]
    assert [t.name for t in spec.targets] == ["cloud"]
    assert spec.sources == (
        str(FIXTURES / "merge" / "a_targets.yaml"),
        str(FIXTURES / "merge" / "nested" / "b_balancers.yml"),
    )
    assert len(spec.documents) == 3


def test_same_name_in_two_files_names_both_places():
    assert problems_of("duplicate_names") == [
        'duplicate_names/two.yaml:3:3 load_balancers.chat: load balancer "chat" '
        "is defined twice: here and at duplicate_names/one.yaml:4:3"
    ]


def test_missing_path_is_a_problem(tmp_path):
    with pytest.raises(SpecValidationError) as caught:
        load_spec([tmp_path / "nope.yaml"], environ={})

    assert str(caught.value.problems[0]) == (
        f"{tmp_path}/nope.yaml: no such file or folder"
    )


def test_yaml_syntax_error_has_its_location():
    (problem,) = problems_of("yaml_syntax_error.yaml")

    # libyaml and the pure-Python parser word the problem a little differently.
    assert problem.startswith("yaml_syntax_error.yaml:5:15: YAML syntax error: ")
    assert "expected ',' or ']'" in problem
    assert problem.endswith(
        "(while parsing a flow sequence that starts at line 4, column 13)"
    )


def test_duplicate_key_in_one_mapping_is_reported(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("targets:\n  a: {type: nginx}\n  a: {type: haproxy}\n")

    with pytest.raises(SpecValidationError) as caught:
        load_spec([path], environ={})

    assert str(caught.value.problems[0]) == (
        f'{path}:3:3 targets.a: "a" is given twice; the first is at {path}:2:3'
    )


def test_saved_documents_rebuild_the_same_spec():
    spec = load_spec([fixture("merge")], environ={})

    again = load_spec_documents(spec.named_documents())

    assert again == spec.__class__(
        targets=spec.targets,
        load_balancers=spec.load_balancers,
        acls=spec.acls,
        certificates=spec.certificates,
        sources=again.sources,
    )
    assert again.documents == spec.documents


def test_saved_documents_locate_problems_by_source_name():
    documents = [("plan.json#0", {"targets": {"t": {"type": "nginx", "colour": 1}}})]
    documents[0][1]["targets"]["t"]["region"] = "Not A Region"

    with pytest.raises(SpecValidationError) as caught:
        load_spec_documents(documents)

    assert [str(p) for p in caught.value.problems] == [
        'plan.json#0:1:1 targets.t.region: "Not A Region" is not valid here; use '
        "a region id such as cn-hangzhou"
    ]


def test_empty_files_make_an_empty_spec(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")

    spec = load_spec([tmp_path], environ={})

    assert spec.load_balancers == ()
    assert spec.targets == ()


def _gateway(spec: model.Spec) -> model.LoadBalancer:
    return next(lb for lb in spec.load_balancers if lb.name == "chat-gateway")


def test_health_check_false_turns_checks_off(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(
        "targets: {edge: {type: nginx, config_path: /tmp/slbsync.conf}}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: edge\n"
        "    server_groups: {ws: {servers: [{address: 10.0.0.1, port: 80}]}}\n"
        "    listeners:\n"
        "      - {protocol: udp, port: 80, server_group: ws, health_check: false}\n"
    )

    listener = load_spec([path], environ={}).load_balancers[0].listeners[0]

    assert listener.health_check == model.HealthCheck(enabled=False, type="udp")


def test_anchors_and_merge_keys_work_without_false_duplicates():
    spec = load_spec([fixture("anchors.yaml")], environ={})

    first, second = spec.load_balancers[0].listeners
    assert (first.port, second.port) == (80, 81)
    assert second.server_group == "ws"
    assert first.health_check.interval == 5
    assert (second.health_check.interval, second.health_check.healthy_threshold) == (
        10,
        2,
    )


def test_shipped_examples_validate():
    examples = FIXTURES.parents[2] / "specs" / "examples"

    spec = load_spec([examples], environ={})

    assert spec.load_balancers
