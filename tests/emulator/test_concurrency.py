"""Many clients at once: every acknowledged write is kept, none overwrites another."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alibabacloud_slb20140515 import models

from slbsync.emulator.server import EmulatorServer
from slbsync.emulator.state.store import Store
from tests.conftest import make_slb_client
from tests.emulator.slb_helpers import call
from tests.emulator.test_persistence import _Where

THREADS = 32
CALLS_PER_THREAD = 50
REGIONS = ["cn-hangzhou", "cn-shanghai", "cn-beijing", "cn-shenzhen"]


def _worker(
    endpoint: str, index: int, results: dict[int, str], errors: list[BaseException]
) -> None:
    try:
        client = make_slb_client(
            _Where(endpoint),  # type: ignore[arg-type]
            "v2" if index % 2 else "v3",
        )
        region = REGIONS[index % len(REGIONS)]
        lb_id = call(
            client,
            "CreateLoadBalancer",
            region_id=region,
            load_balancer_name=f"t{index}",
        ).load_balancer_id
        results[index] = lb_id
        for n in range(CALLS_PER_THREAD - 1):
            call(
                client,
                "TagResources",
                region_id=region,
                resource_type="instance",
                resource_id=[lb_id],
                tag=[models.TagResourcesRequestTag(key=f"k{n % 10}", value=str(n))],
            )
    except BaseException as err:  # reported by the test thread
        errors.append(err)


def test_concurrent_clients_lose_no_update(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    server = EmulatorServer(state_path=state).start()
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    try:
        threads = [
            threading.Thread(target=_worker, args=(server.endpoint, i, results, errors))
            for i in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors[:3]
        assert server.calls.summary()["total"] == THREADS * CALLS_PER_THREAD
    finally:
        server.stop()

    # Each tag ends with the last value its thread wrote; the file agrees.
    expected = {f"k{n % 10}": str(n) for n in range(CALLS_PER_THREAD - 1)}
    reloaded = Store(state)
    from slbsync.emulator.state import tags
    from slbsync.emulator.state.load_balancers import load_balancers

    assert sorted(load_balancers(reloaded)) == sorted(results.values())
    for lb_id in results.values():
        assert dict(tags.tags_of(reloaded, "instance", lb_id)) == expected
    assert len(set(results.values())) == THREADS


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
