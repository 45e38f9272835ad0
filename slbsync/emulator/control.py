"""The control API under ``/_emulator/``: unsigned, for loopback clients only.

| method and path | does |
|---|---|
| GET /_emulator/calls | ``{"total": N, "by_action": {...}}`` since the last clear |
| GET /_emulator/calls/outcomes | what became of them: ok, an error code, lost |
| DELETE /_emulator/calls | clear the call log |
| POST /_emulator/reset | forget every resource, the call log and the faults |
| GET, PUT /_emulator/faults | read or set faults (``faults.py``); ``{}`` clears them |
| GET /_emulator/state | every table of the store, as JSON |
| GET /_emulator/stats | time spent inside the server per call |
| GET /_emulator/actions | the emulated actions, by API version |
| POST /_emulator/ecs/instances | seed one instance (object) or several (list) |
| PUT, PATCH /_emulator/ecs/instances/<id> | change an instance (``status``, ``tags``) |
| DELETE /_emulator/ecs/instances/<id> | remove an instance |
| GET, PUT /_emulator/quotas | load balancers per region, servers per load balancer |
| PUT /_emulator/health | ``{"server_id", "status", "port"?}``: a backend's health |
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slbsync.emulator import registry
from slbsync.emulator.faults import FaultSettings
from slbsync.emulator.state import ecs, health

if TYPE_CHECKING:
    from slbsync.emulator.server import EmulatorServer

log = logging.getLogger(__name__)

Answer = tuple[int, Any]
_INSTANCES = "/_emulator/ecs/instances"


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.removeprefix("::ffff:")).is_loopback
    except ValueError:
        return False


def handle_control(
    emulator: EmulatorServer, method: str, path: str, body: bytes, client: str
) -> Answer:
    """Answer one control request with (HTTP status, JSON payload)."""
    if not is_loopback(client):
        return 403, {"error": "the control API answers loopback clients only"}
    try:
        data = json.loads(body) if body.strip() else None
    except ValueError as err:
        return 400, {"error": f"the body is not JSON: {err}"}
    try:
        return _route(emulator, method, path.rstrip("/"), data)
    except ControlError as err:
        return err.status, {"error": str(err)}
    except ValueError as err:
        return 400, {"error": str(err)}


def _route(emulator: EmulatorServer, method: str, path: str, data: Any) -> Answer:
    simple: dict[tuple[str, str], Callable[[], Any]] = {
        ("GET", "/_emulator/calls"): lambda: emulator.calls.summary(),
        ("GET", "/_emulator/calls/outcomes"): lambda: emulator.calls.outcomes(),
        ("DELETE", "/_emulator/calls"): lambda: _clear_calls(emulator),
        ("POST", "/_emulator/reset"): lambda: _reset(emulator),
        ("GET", "/_emulator/faults"): lambda: emulator.faults.settings.to_json(),
        ("GET", "/_emulator/state"): lambda: emulator.store.dump(),
        ("GET", "/_emulator/stats"): lambda: emulator.stats.summary(),
        ("DELETE", "/_emulator/stats"): lambda: _clear_stats(emulator),
        ("GET", "/_emulator/actions"): lambda: emulated_actions(),
        ("GET", _INSTANCES): lambda: _list_instances(emulator),
        ("GET", "/_emulator/quotas"): lambda: _quotas(emulator),
    }
    handler = simple.get((method, path))
    if handler is not None:
        return 200, handler()
    if (method, path) == ("PUT", "/_emulator/faults"):
        return 200, _set_faults(emulator, data)
    if (method, path) == ("POST", _INSTANCES):
        return 200, _seed_instances(emulator, data)
    if path.startswith(_INSTANCES + "/"):
        return _instance(emulator, method, path[len(_INSTANCES) + 1 :], data)
    if (method, path) == ("PUT", "/_emulator/quotas"):
        return 200, _set_quotas(emulator, data)
    if (method, path) == ("PUT", "/_emulator/health"):
        return 200, _set_health(emulator, data)
    raise ControlError(404, f"no control endpoint {method} {path}")


def emulated_actions() -> dict[str, list[str]]:
    """The registered actions by API version, sorted: the coverage list."""
    by_version: dict[str, list[str]] = {}
    for version, name in sorted(registry.ACTIONS):
        by_version.setdefault(version, []).append(name)
    return by_version


def _clear_calls(emulator: EmulatorServer) -> dict[str, Any]:
    emulator.calls.clear()
    return emulator.calls.summary()


def _clear_stats(emulator: EmulatorServer) -> dict[str, Any]:
    emulator.stats.clear()
    return emulator.stats.summary()


def _reset(emulator: EmulatorServer) -> dict[str, Any]:
    emulator.reset()
    log.info("control: reset")
    return {"reset": True}


def _set_faults(emulator: EmulatorServer, data: Any) -> dict[str, Any]:
    settings = FaultSettings.from_json(data if data is not None else {})
    emulator.faults.configure(settings)
    log.info("control: faults=%s", settings.to_json())
    return settings.to_json()


def _list_instances(emulator: EmulatorServer) -> list[dict[str, Any]]:
    with emulator.store.lock:
        return [
            vars(record).copy() for record in ecs.instances(emulator.store).values()
        ]


def _seed_instances(emulator: EmulatorServer, data: Any) -> dict[str, Any]:
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise ValueError("send an instance object, or a list of them")
    store = emulator.store
    with store.lock:
        # Validate every item before seeding any, so bad input changes nothing.
        for item in items:
            ecs.check_seed(item)
        seeded = [
            ecs.seed_instance(store, item, emulator.region, time.time()).instance_id
            for item in items
        ]
        store.save()
    return {"seeded": seeded}


def _instance(
    emulator: EmulatorServer, method: str, instance_id: str, data: Any
) -> Answer:
    store = emulator.store
    with store.lock:
        record = ecs.get_instance(store, instance_id)
        if record is None:
            raise ControlError(404, f"no seeded instance {instance_id}")
        if method == "DELETE":
            del ecs.instances(store)[instance_id]
            store.save()
            return 200, {"deleted": instance_id}
        if method not in ("PUT", "PATCH"):
            raise ControlError(405, f"{method} is not allowed on an instance")
        if not isinstance(data, dict):
            raise ValueError('send {"status": "Stopped"} or other fields to change')
        if "status" in data:
            ecs.check_status(data["status"])
            record.status = data["status"]
        if "tags" in data:
            tags = data["tags"]
            if not isinstance(tags, dict):
                raise ValueError("tags must be an object {key: value}")
            record.tags = sorted([str(k), str(v)] for k, v in tags.items())
        for name in ("vpc_id", "vswitch_id", "private_ip"):
            if name in data:
                setattr(record, name, str(data[name]))
        store.save()
        return 200, vars(record).copy()


_QUOTAS = {
    # key in the control API: the Store attribute holding it
    "load_balancers": "load_balancer_quota",
    "backend_servers_per_load_balancer": "backend_server_quota",
}


def _quotas(emulator: EmulatorServer) -> dict[str, Any]:
    return {key: getattr(emulator.store, name) for key, name in _QUOTAS.items()}


def _set_quotas(emulator: EmulatorServer, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or set(data) - set(_QUOTAS):
        raise ValueError(
            'send {"load_balancers": N, "backend_servers_per_load_balancer": M}'
            " (either or both): the quotas that can change"
        )
    # Every value is checked before any is set, so bad input changes nothing.
    for key, quota in data.items():
        if isinstance(quota, bool) or not isinstance(quota, int) or quota < 1:
            raise ValueError(f"{key} must be a whole number above 0, got {quota!r}")
    with emulator.store.lock:
        for key, quota in data.items():
            setattr(emulator.store, _QUOTAS[key], quota)
    log.info("control: quotas=%s", data)
    return _quotas(emulator)


def _set_health(emulator: EmulatorServer, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not data.get("server_id"):
        raise ValueError('send {"server_id": "i-x", "status": "abnormal", "port": 80}')
    port = data.get("port")
    if port is not None and (not isinstance(port, int) or not 1 <= port <= 65535):
        raise ValueError(f"port must be 1-65535, got {port!r}")
    with emulator.store.lock:
        health.set_health(
            emulator.store, str(data["server_id"]), str(data.get("status")), port
        )
        emulator.store.save()
    return {"server_id": data["server_id"], "port": port, "status": data["status"]}
