"""A full load balancer: the backend server quota met by apply, as the cloud's
own controller meets it (removes first, then the add again)."""

import pytest

from tests.e2e.harness import run_cli, small_load_balancer, write_spec

pytestmark = pytest.mark.slow

QUOTA = 10


def _swapped(lb: dict, count: int) -> dict:
    """``lb`` with its first ``count`` servers replaced by new ones."""
    servers = lb["server_groups"]["ws-nodes"]["servers"]
    fresh = [{"id": f"i-bp1new{n:03d}", "port": 8080} for n in range(count)]
    lb["server_groups"]["ws-nodes"]["servers"] = fresh + servers[count:]
    return lb


def _add_outcomes(emulator) -> dict:
    outcomes = emulator.control("GET", "calls/outcomes")["by_action"]
    return outcomes.get("AddVServerGroupBackendServers", {})


def test_swap_on_a_full_load_balancer_converges(emulator, spec_dir):
    spec = write_spec(spec_dir, emulator.url, {"chat": small_load_balancer(QUOTA)})
    applied = run_cli(["apply", str(spec), "--auto-approve"])
    assert applied.returncode == 0, applied.stderr
    emulator.control("PUT", "quotas", {"backend_servers_per_load_balancer": QUOTA})
    emulator.control("DELETE", "calls")

    swapped = _swapped(small_load_balancer(QUOTA), 2)
    spec = write_spec(spec_dir, emulator.url, {"chat": swapped})
    applied = run_cli(["apply", str(spec), "--auto-approve"])

    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "at its backend server quota" in applied.stderr
    assert "capacity dips for this change" in applied.stderr
    # Refused once at the quota, carried out after the removes.
    assert _add_outcomes(emulator) == {
        "InstanceBackendServerNumberOverLimit": 1,
        "ok": 1,
    }
    plan = run_cli(["plan", str(spec), "--detailed-exitcode"])
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "No changes: the live state matches the spec." in plan.stdout


def test_growing_past_the_quota_says_what_to_do(emulator, spec_dir):
    spec = write_spec(spec_dir, emulator.url, {"chat": small_load_balancer(QUOTA)})
    applied = run_cli(["apply", str(spec), "--auto-approve"])
    assert applied.returncode == 0, applied.stderr
    emulator.control("PUT", "quotas", {"backend_servers_per_load_balancer": QUOTA})

    spec = write_spec(spec_dir, emulator.url, {"chat": small_load_balancer(QUOTA + 1)})
    applied = run_cli(["apply", str(spec), "--auto-approve"])

    assert applied.returncode == 1
    output = applied.stdout + applied.stderr
    assert "AddVServerGroupBackendServers failed with " in output
    assert "InstanceBackendServerNumberOverLimit" in output
    assert "remove servers from it first" in output
    assert "Quota Center console" in output
    # Nothing was removed to make room: there was nothing to remove.
    assert "capacity dips" not in output
