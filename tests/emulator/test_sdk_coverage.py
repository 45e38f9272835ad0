"""Every emulated action has a contract test that calls it through the SDK.

A response in a shape the SDK's model does not expect makes the SDK return
``body=None`` without an error, so only a call through the SDK proves an
action's answer is usable. conftest.py records the actions the SDK got an
answer for during the run; this test, sorted last, compares them with the
registry. It can only judge a run of the whole tests/emulator directory.
"""

from __future__ import annotations

import pytest

from slbsync.emulator import actions, registry
from tests.emulator.sdk_answers import SDK_ANSWERED

# Actions the emulator never answers with success, with the reason; their
# refusals are tested in the action's own test file.
NEVER_SUCCEED = {
    # Every instance is PayOnDemand already, and PrePay is not emulated.
    ("2014-05-15", "ModifyLoadBalancerPayType"),
}


def test_every_emulated_action_is_answered_through_the_sdk(
    whole_directory_run: bool,
) -> None:
    if not whole_directory_run:
        pytest.skip("judges only a run of all of tests/emulator")
    assert actions  # the import registers every handler
    assert all(key in registry.ACTIONS for key in NEVER_SUCCEED), "stale exemption"

    untested = sorted(
        f"{spec.name} ({spec.version})"
        for key, spec in registry.ACTIONS.items()
        if key not in SDK_ANSWERED | NEVER_SUCCEED
    )
    assert not untested, (
        "no test calls these actions through the official SDK with success; "
        f"add a contract test for each: {', '.join(untested)}"
    )
