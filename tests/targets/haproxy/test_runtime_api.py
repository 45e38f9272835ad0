"""The runtime API client against a real HAProxy: replies, errors, parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from slbsync.spec.model import Protocol
from slbsync.targets.haproxy.runtime_api import (
    RuntimeApi,
    RuntimeApiError,
    SocketUnreachableError,
)
from tests.backends import Backend, free_port
from tests.targets.haproxy.conftest import RunningHaproxy, apply, chat_lb, spec_for


def test_refusal_names_the_command_and_haproxys_reply(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    lb = chat_lb(free_port(), http_backends[:1], protocol=Protocol.HTTP)
    apply(spec_for(haproxy.target_spec(), lb), haproxy.target())
    name = f"127.0.0.1:{http_backends[0].port}"

    with pytest.raises(RuntimeApiError) as caught:
        haproxy.admin.set_weight("chat:nodes", name, 300)

    assert str(caught.value) == (
        f"HAProxy runtime API at {haproxy.root}/admin.sock: "
        f"'set server chat:nodes/{name} weight 300' failed: Absolute weight can "
        "only be between 0 and 256 inclusive."
    )


def test_state_drain_and_maint_read_back(
    haproxy: RunningHaproxy, http_backends: list[Backend]
) -> None:
    lb = chat_lb(free_port(), http_backends[:2], protocol=Protocol.HTTP)
    apply(spec_for(haproxy.target_spec(), lb), haproxy.target())
    first, second = (f"127.0.0.1:{b.port}" for b in http_backends[:2])

    haproxy.admin.set_state("chat:nodes", first, "drain")
    haproxy.admin.set_state("chat:nodes", second, "maint")
    states = {s.name: s for s in haproxy.admin.servers_state("chat:nodes")}

    assert states[first].is_drain and not states[first].is_maint
    assert states[second].is_maint and not states[second].is_drain
    assert not any(s.takes_new_connections for s in states.values())
    assert haproxy.admin.backends()[-1] == "chat:nodes"
    assert haproxy.master.show_proc().workers == haproxy.worker_pids()


def test_missing_socket_is_unreachable_and_transient(tmp_path: Path) -> None:
    from slbsync.spec.model import TargetSpec
    from slbsync.targets.haproxy.target import HaproxyTarget

    api = RuntimeApi(tmp_path / "none.sock")
    with pytest.raises(SocketUnreachableError) as caught:
        api.send("show info")
    target = HaproxyTarget(TargetSpec(name="edge", type="haproxy"))
    assert target.is_transient(caught.value)
    assert not target.is_transient(RuntimeApiError(api.path, "x", "No such server."))
