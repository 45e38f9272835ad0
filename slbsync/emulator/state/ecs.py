"""ECS instances, seeded through the control API, for backend checks and
``DescribeInstances`` (tag-based discovery of backend servers).

The emulator does not run ECS: instances exist only when a test or a user
seeds them (``POST /_emulator/ecs/instances``). A backend server id that was
never seeded is accepted, unless the emulator runs with
``--strict-backends``: a documented leniency, so a spec works without
seeding every instance it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from slbsync.emulator.errors import ApiError
from slbsync.emulator.state.store import Store

TABLE = "ecs_instances"
STATUSES = ("Pending", "Running", "Starting", "Stopping", "Stopped")
_INSTANCE_ID = re.compile(r"^i-[A-Za-z0-9-]{1,60}$")


@dataclass
class InstanceRecord:
    instance_id: str
    status: str = "Running"
    vpc_id: str = ""
    vswitch_id: str = ""
    private_ip: str = ""
    tags: list[list[str]] = field(default_factory=list)
    instance_name: str = ""
    zone_id: str = ""
    region_id: str = ""
    create_time: float = 0.0


def instances(store: Store) -> dict[str, InstanceRecord]:
    return store.table(TABLE, InstanceRecord)


def get_instance(store: Store, instance_id: str) -> InstanceRecord | None:
    return instances(store).get(instance_id)


def check_backend_server(store: Store, server_id: str, server_type: str) -> None:
    """Refuse a backend the cloud would refuse: a stopped or unknown instance."""
    if server_type not in ("", "ecs"):
        return  # ENI and ECI ids are not modelled; they are taken as given
    record = get_instance(store, server_id)
    if record is None:
        if store.strict_backends:
            raise ApiError(
                "InvalidServerId.NotFound",
                f"The specified ServerId {server_id} does not exist.",
                404,
            )
        return
    if record.status != "Running":
        raise ApiError(
            "ObtainIpFail",
            f"The specified backend server {server_id} is not running.",
            400,
        )


def check_seed(data: dict[str, Any]) -> tuple[str, str, list[list[str]]]:
    """Id, status and tags of a seed from the control API; bad ones raise ValueError."""
    instance_id = data.get("id") or data.get("instance_id")
    if not isinstance(instance_id, str) or not _INSTANCE_ID.match(instance_id):
        raise ValueError(f"instance id must look like i-xxxx, got {instance_id!r}")
    status = data.get("status", "Running")
    check_status(status)
    tags = data.get("tags", {})
    if isinstance(tags, dict):
        pairs = [[str(k), str(v)] for k, v in tags.items()]
    elif isinstance(tags, list) and all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in tags
    ):
        pairs = [[str(k), str(v)] for k, v in tags]
    else:
        raise ValueError("tags must be an object {key: value} or [[key, value]]")
    return instance_id, status, pairs


def seed_instance(
    store: Store, data: dict[str, Any], region: str, now: float
) -> InstanceRecord:
    """An instance from the control API's JSON; a bad field raises ValueError."""
    instance_id, status, pairs = check_seed(data)
    number = store.next_number("ecs-ip")
    record = InstanceRecord(
        instance_id=instance_id,
        status=status,
        vpc_id=str(data.get("vpc_id", data.get("vpc", ""))),
        vswitch_id=str(data.get("vswitch_id", "")),
        private_ip=str(
            data.get("private_ip") or f"10.0.{number // 250 % 250}.{number % 250 + 1}"
        ),
        tags=sorted(pairs),
        instance_name=str(data.get("name", instance_id)),
        zone_id=str(data.get("zone_id", f"{region}-h")),
        region_id=str(data.get("region_id", region)),
        create_time=now,
    )
    instances(store)[instance_id] = record
    return record


def check_status(status: Any) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
