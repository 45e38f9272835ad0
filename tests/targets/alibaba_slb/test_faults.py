"""Apply under the faults a real cloud has, through the project's runner."""

from __future__ import annotations

from slbsync.apply.retry import RetryPolicy
from slbsync.apply.runner import PlanRunner
from slbsync.plan.make import make_plan
from slbsync.targets.alibaba_slb.target import AlibabaSlbTarget
from tests.conftest import EmulatorHandle
from tests.targets.alibaba_slb.conftest import spec_of, target_spec
from tests.targets.alibaba_slb.test_apply import OFFICE, chat_gateway


def test_apply_converges_under_throttling_errors_and_lost_responses(
    cloud_credentials: EmulatorHandle,
) -> None:
    # The client's own limiter may not slow to a crawl: nothing here waits.
    target = AlibabaSlbTarget(target_spec(cloud_credentials, min_rate=1000))
    spec = spec_of(chat_gateway(), acls=(OFFICE,))
    cloud_credentials.set_faults(
        seed=7, throttle_rate=0.3, error_rate=0.05, lost_response_rate=0.02
    )
    runner = PlanRunner(
        {target.name: target},
        policy=RetryPolicy(deadline=60.0, initial=0.0, max_wait=0.0),
        sleep=lambda seconds: None,
    )

    report = runner.run(make_plan(spec, [target]))

    cloud_credentials.set_faults()
    assert report.failures == []
    again = make_plan(spec, [target])
    assert again.write_calls == 0
    # No duplicate: a second owned load balancer of the name would fail the read.
    live = target.read_live_state(spec)
    assert [lb.spec.name for lb in live.load_balancers] == ["chat-gateway"]
