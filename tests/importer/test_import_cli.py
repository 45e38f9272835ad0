"""``slbsync import`` against the emulator: hand-built load balancers in,
a spec that plans clean out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EmulatorHandle
from tests.drift.conftest import invoke
from tests.importer.handmade import (
    add_default_servers,
    create_acl,
    create_group,
    create_lb,
    create_master_slave_group,
    listener,
    rule,
    upload_certificate,
)


@pytest.fixture
def cloud(
    emulator: EmulatorHandle, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> EmulatorHandle:
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", emulator.access_key_secret)
    monkeypatch.chdir(tmp_path)
    return emulator


def _import(emulator: EmulatorHandle, out: Path, *args: str) -> Any:
    return invoke(
        "import", "--region", emulator.region, "--endpoint",
        f"http://{emulator.endpoint}", "-o", str(out), *args,
    )  # fmt: skip


def _build_chat(client: Any) -> str:
    lb = create_lb(client, "chat-gateway", address_type="internet")
    ws = create_group(
        client, lb, "ws-nodes", [("i-node1", 8080, 100), ("i-node2", 8080, 50)]
    )
    web = create_group(client, lb, "web", [("i-web1", 80, 100)])
    acl = create_acl(client, "office", [("10.0.0.0/8", "hq"), ("192.168.1.0/24", "")])
    listener(
        client, "tcp", lb, 443, ws, scheduler="wlc", connection_drain="on",
        connection_drain_timeout=300, acl_status="on", acl_id=acl, acl_type="white",
    )  # fmt: skip
    listener(client, "http", lb, 80, web, sticky_session="off", health_check="on",
                  health_check_uri="/healthz")  # fmt: skip
    rule(client, lb, 80, "api", ws, url="/api")
    return lb


def test_import_writes_a_spec_that_plans_clean(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    _build_chat(slb_client)
    out = tmp_path / "specs" / "imported.yaml"

    result = _import(cloud, out, "--adopt")

    assert result.exit_code == 0, result.output
    text = out.read_text()
    document = yaml.safe_load(text)
    lb = document["load_balancers"]["chat-gateway"]
    assert lb["server_groups"]["ws-nodes"]["servers"] == [
        {"id": "i-node1", "port": 8080},
        {"id": "i-node2", "port": 8080, "weight": 50},
    ]
    assert document["acls"]["office"]["entries"] == [
        {"cidr": "10.0.0.0/8", "comment": "hq"},
        "192.168.1.0/24",
    ]
    plan = invoke("plan", str(out), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "Adopted (tagged as owned): chat-gateway." in result.output


def test_without_adopt_plan_leaves_them_alone(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    _build_chat(slb_client)
    out = tmp_path / "imported.yaml"

    result = _import(cloud, out)

    assert result.exit_code == 0, result.output
    assert (
        "Not owned, so plan and apply leave them alone: chat-gateway" in result.output
    )
    plan = invoke("plan", str(out), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output
    assert "is not owned; set adopt: true to manage it" in plan.output


def test_filters_by_name_glob_tag_and_id(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    from alibabacloud_slb20140515 import models as m

    from tests.conftest import REGION

    ids = {name: create_lb(slb_client, name) for name in ("chat-a", "chat-b", "admin")}
    slb_client.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="instance",
            resource_id=[ids["chat-b"], ids["admin"]],
            tag=[m.TagResourcesRequestTag(key="team", value="im")],
        )
    )

    def names(*args: str) -> list[str]:
        out = tmp_path / "out.yaml"
        result = _import(cloud, out, *args)
        assert result.exit_code == 0, result.output
        return sorted(yaml.safe_load(out.read_text())["load_balancers"])

    assert names("--name", "chat-*") == ["chat-a", "chat-b"]
    assert names("--tag", "team=im") == ["admin", "chat-b"]
    assert names("--tag", "team=im", "--name", "chat-*") == ["chat-b"]
    assert names("--id", ids["admin"]) == ["admin"]
    assert names() == ["admin", "chat-a", "chat-b"]

    nothing = _import(cloud, tmp_path / "none.yaml", "--name", "web-*")
    assert nothing.exit_code == 1
    assert "no load balancer in cn-hangzhou matches --name web-*" in str(
        nothing.exception
    )


def test_same_name_twice_is_refused_with_a_way_out(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    first, second = create_lb(slb_client, "twin"), create_lb(slb_client, "twin")

    result = _import(cloud, tmp_path / "out.yaml")

    assert result.exit_code == 1
    message = str(result.exception)
    assert f"2 load balancers are named twin ({first}, {second})" in message
    assert "import one of them with --id" in message
    assert not (tmp_path / "out.yaml").exists()


def test_import_to_stdout(cloud: EmulatorHandle, slb_client: Any) -> None:
    create_lb(slb_client, "solo")

    result = invoke(
        "import", "--region", cloud.region, "--endpoint", f"http://{cloud.endpoint}"
    )

    assert result.exit_code == 0, result.output
    assert "load_balancers:\n  solo:\n    target: cloud\n" in result.output


def test_bad_tag_is_a_clear_error(cloud: EmulatorHandle, tmp_path: Path) -> None:
    result = _import(cloud, tmp_path / "x.yaml", "--tag", "team")

    assert result.exit_code == 1
    assert '--tag "team": write a tag as KEY=VALUE' in str(result.exception)


def test_stopped_listener_is_refused_with_a_way_out(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    from alibabacloud_slb20140515 import models as m

    from tests.conftest import REGION

    lb = create_lb(slb_client, "half-built")
    slb_client.create_load_balancer_tcplistener(
        m.CreateLoadBalancerTCPListenerRequest(
            region_id=REGION, load_balancer_id=lb, listener_port=22,
            backend_server_port=22, bandwidth=-1,
        )
    )  # fmt: skip

    result = _import(cloud, tmp_path / "out.yaml")

    assert result.exit_code == 1
    assert "cannot import stopped listeners (half-built tcp/22)" in str(
        result.exception
    )
    assert "start or delete them, or leave those load balancers out" in str(
        result.exception
    )


def test_listener_without_vserver_group_is_refused_with_a_way_out(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    lb = create_lb(slb_client, "legacy")
    add_default_servers(slb_client, lb, [("i-old1", 100), ("i-old2", 50)])
    listener(slb_client, "tcp", lb, 22, None, backend_server_port=22)
    pair = create_master_slave_group(
        slb_client, lb, "primary-standby", ("i-db1", 5432), ("i-db2", 5432)
    )
    listener(slb_client, "udp", lb, 53, None, master_slave_server_group_id=pair)

    result = _import(cloud, tmp_path / "out.yaml")

    assert result.exit_code == 1
    message = str(result.exception)
    assert message.startswith(
        "cannot import listeners without a VServer group ("
        "legacy tcp/22 uses the load balancer's default servers; "
        f"legacy udp/53 uses master-slave group {pair}): "
        "a spec sends a listener's traffic to a VServer group only; "
        "create a VServer group with those servers and point the listener at it"
    ), message
    assert "or leave those load balancers out (--name, --id)" in message
    assert not (tmp_path / "out.yaml").exists()


def test_servers_on_the_load_balancer_alone_do_not_stop_import(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    lb = create_lb(slb_client, "mixed")
    add_default_servers(slb_client, lb, [("i-old1", 100)])
    create_master_slave_group(slb_client, lb, "spare", ("i-a", 80), ("i-b", 80))
    ws = create_group(slb_client, lb, "ws", [("i-node1", 8080, 100)])
    listener(slb_client, "tcp", lb, 443, ws)

    result = _import(cloud, tmp_path / "out.yaml")

    assert result.exit_code == 0, result.output
    written = yaml.safe_load((tmp_path / "out.yaml").read_text())
    assert written["load_balancers"]["mixed"]["listeners"] == [
        {"protocol": "tcp", "port": 443, "server_group": "ws"}
    ]


def test_https_listener_refers_to_its_certificate_by_id(
    cloud: EmulatorHandle, slb_client: Any, tmp_path: Path
) -> None:
    lb = create_lb(slb_client, "secure")
    group = create_group(slb_client, lb, "web", [("i-web1", 80, 100)])
    cert = upload_certificate(slb_client, tmp_path, "chat-cert")
    listener(
        slb_client,
        "https",
        lb,
        443,
        group,
        server_certificate_id=cert,
        health_check="off",
        sticky_session="off",
    )
    out = tmp_path / "secure.yaml"

    result = _import(cloud, out, "--adopt")

    assert result.exit_code == 0, result.output
    document = yaml.safe_load(out.read_text())
    (https,) = document["load_balancers"]["secure"]["listeners"]
    assert https["certificate"] == f"id:{cert}"
    assert "certificates" not in document
    plan = invoke("plan", str(out), "--detailed-exitcode")
    assert plan.exit_code == 0, plan.output

    # Another upload by id: the plan points the listener at it.
    other = upload_certificate(slb_client, tmp_path, "chat-cert-2")
    out.write_text(out.read_text().replace(cert, other))
    applied = invoke("apply", str(out), "--auto-approve")
    assert applied.exit_code == 0, applied.output
    assert "SetLoadBalancerHTTPSListenerAttribute" in applied.output
    assert invoke("plan", str(out), "--detailed-exitcode").exit_code == 0


def test_offline_round_trip_with_the_embedded_emulator(tmp_path: Path) -> None:
    """apply then import against endpoint: local, as in the quick start."""
    spec = tmp_path / "chat.yaml"
    spec.write_text(
        "targets:\n"
        "  cloud: {type: alibaba-slb, region: cn-hangzhou, endpoint: local}\n"
        "load_balancers:\n"
        "  chat:\n"
        "    target: cloud\n"
        "    server_groups:\n"
        "      ws:\n"
        "        servers:\n"
        "          - {id: i-node1, port: 8080, weight: 40}\n"
        "    listeners:\n"
        "      - {protocol: tcp, port: 443, server_group: ws,"
        " scheduler: least_connections}\n"
    )
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "slbsync", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert run("apply", str(spec), "--auto-approve").returncode == 0
    imported = run(
        "import", "--region", "cn-hangzhou", "--endpoint", "local", "-o", "back.yaml"
    )

    assert imported.returncode == 0, imported.stderr
    document = yaml.safe_load((tmp_path / "back.yaml").read_text())
    assert document["load_balancers"]["chat"]["listeners"] == [
        {
            "protocol": "tcp",
            "port": 443,
            "server_group": "ws",
            "scheduler": "least_connections",
        }
    ]
    assert run("plan", "back.yaml", "--detailed-exitcode").returncode == 0
