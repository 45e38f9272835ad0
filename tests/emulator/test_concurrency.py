"""Many clients at once: every acknowledged write is kept, none overwrites another.

32 threads make 200 calls each, half in each signature mode. Besides a load
balancer of its own, every thread writes to resources all threads share:
distinct servers into ONE VServer group and its own tag key on one of two
shared load balancers (16 keys each, under the cloud's 20 tags per resource).
A read-modify-write that is not atomic would drop some of them.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from pathlib import Path
from typing import Any

from alibabacloud_slb20140515 import models

from slbsync.emulator.state import tags
from slbsync.emulator.state.load_balancers import load_balancers
from slbsync.emulator.state.server_groups import get_vserver_group
from slbsync.emulator.state.store import Store
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import (
    call,
    make_load_balancer,
    make_vserver_group,
    servers_json,
)
from tests.emulator.test_persistence import _serve, _Where

THREADS = 32
CALLS_PER_THREAD = 200
REGION = "cn-hangzhou"
# The first call creates the thread's own load balancer; then every eighth
# step adds a server to the shared group, odd steps retag a shared load
# balancer and the rest tag the thread's own one. (Each add answers with the
# whole group, so a group of thousands would make the SDK's parsing the cost.)
STEPS = range(CALLS_PER_THREAD - 1)
ADD_EVERY = 8
LAST_TAG_VALUE = str(max(n for n in STEPS if n % 2))
OWN_TAG_KEYS = 10


class _Shared:
    """The resources every thread writes to."""

    def __init__(self, client: Any) -> None:
        self.tagged = [make_load_balancer(client, f"shared{i}") for i in range(2)]
        self.group = make_vserver_group(client, self.tagged[0])

    def tagged_by(self, index: int) -> str:
        return self.tagged[index % 2]


def _server_id(index: int, step: int) -> str:
    return f"i-t{index:02d}s{step:03d}"


def _worker(
    endpoint: str,
    index: int,
    shared: _Shared,
    results: dict[int, str],
    errors: list[BaseException],
) -> None:
    try:
        client = make_slb_client(
            _Where(endpoint),  # type: ignore[arg-type]
            "v2" if index % 2 else "v3",
        )
        results[index] = make_load_balancer(client, f"t{index}")
        for step in STEPS:
            if step % ADD_EVERY == 0:
                call(
                    client,
                    "AddVServerGroupBackendServers",
                    vserver_group_id=shared.group,
                    backend_servers=servers_json((_server_id(index, step), 80, 50)),
                )
                continue
            lb_id = shared.tagged_by(index) if step % 2 else results[index]
            key = f"t{index}" if step % 2 else f"k{step % OWN_TAG_KEYS}"
            call(
                client,
                "TagResources",
                region_id=REGION,
                resource_type="instance",
                resource_id=[lb_id],
                tag=[models.TagResourcesRequestTag(key=key, value=str(step))],
            )
    except BaseException as err:  # reported by the test thread
        errors.append(err)


def _run_threads(endpoint: str, shared: _Shared) -> dict[int, str]:
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_worker, args=(endpoint, i, shared, results, errors))
        for i in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors[:3]
    return results


def _expected_servers() -> list[str]:
    return sorted(
        _server_id(index, step)
        for index in range(THREADS)
        for step in STEPS
        if step % ADD_EVERY == 0
    )


def _expected_tags(lb_id: str, shared: _Shared) -> dict[str, str]:
    return {
        f"t{index}": LAST_TAG_VALUE
        for index in range(THREADS)
        if shared.tagged_by(index) == lb_id
    }


def _expected_own_tags() -> dict[str, str]:
    own_steps = [step for step in STEPS if step % 2 == 0 and step % ADD_EVERY]
    return {f"k{step % OWN_TAG_KEYS}": str(step) for step in own_steps}


def _calls_total(endpoint: str) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(f"http://{endpoint}/_emulator/calls", timeout=10) as answer:
        return int(json.loads(answer.read())["total"])


def test_concurrent_clients_lose_no_update(tmp_path: Path) -> None:
    # The emulator runs in a process of its own, as `slbsync emulator serve`
    # does: the 32 clients' SDK work then does not queue with the server for
    # one interpreter lock, which keeps 6400 calls to a few seconds. Its
    # configuring window is off: with it, all but one of the threads adding
    # to the shared group at once would get VServerGroupProcessing, which is
    # the window's own test (test_server_groups.py), not this one's. The
    # shared group gets 800 servers, past the cloud's 200 per load balancer,
    # so the quota is raised: this test is about lost updates, not quotas.
    state = tmp_path / "state.json"
    process, endpoint, _ = _serve(
        state, "--configuring-ms", "0", "--backend-server-quota", "1000"
    )
    try:
        client = make_slb_client(_Where(endpoint))  # type: ignore[arg-type]
        shared = _Shared(client)
        before = _calls_total(endpoint)
        results = _run_threads(endpoint, shared)
        assert _calls_total(endpoint) - before == THREADS * CALLS_PER_THREAD

        # What a client reads back: every server added, every tag's last value.
        group = call(
            client, "DescribeVServerGroupAttribute", vserver_group_id=shared.group
        )
        listed = [s.server_id for s in group.backend_servers.backend_server]
        assert sorted(listed) == _expected_servers()
        for lb_id in shared.tagged:
            body = call(
                client,
                "ListTagResources",
                region_id=REGION,
                resource_type="instance",
                resource_id=[lb_id],
            )
            found = {t.tag_key: t.tag_value for t in body.tag_resources.tag_resource}
            assert found == _expected_tags(lb_id, shared)
    finally:
        process.terminate()
        process.wait(timeout=10)

    # The state file agrees after the server is gone.
    reloaded = Store(state)
    own = sorted(results.values())
    assert len(set(own)) == THREADS
    assert sorted(load_balancers(reloaded)) == sorted([*own, *shared.tagged])
    stored = get_vserver_group(reloaded, shared.group).backend_servers
    assert sorted(s["ServerId"] for s in stored) == _expected_servers()
    for lb_id in shared.tagged:
        found = dict(tags.tags_of(reloaded, "instance", lb_id))
        assert found == _expected_tags(lb_id, shared)
    for lb_id in own:
        assert dict(tags.tags_of(reloaded, "instance", lb_id)) == _expected_own_tags()


def test_rate_limit_holds_under_concurrency(emulator: Any) -> None:
    emulator.set_faults(rate_limits={"DescribeRegions": 5})
    outcomes: list[bool] = []
    lock = threading.Lock()

    def burst() -> None:
        client = make_slb_client(emulator)
        for _ in range(5):
            try:
                call(client, "DescribeRegions")
                ok = True
            except Exception:
                ok = False
            with lock:
                outcomes.append(ok)

    threads = [threading.Thread(target=burst) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # 40 calls in well under a second: the bucket (5) plus a little refill.
    assert 5 <= outcomes.count(True) < 15
