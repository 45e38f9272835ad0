"""Discovery: the running ECS instances that carry a group's tags.

A ``discovered`` server group's members are the running instances with the
group's ``discover.instance_tags``, in the target's region and in the VPC
the group (``discover.vpc_id``) or its load balancer (``vpc_id``) names,
each at ``discover.port`` and ``discover.weight``. They are listed with
ECS ``DescribeInstances`` (API 2014-05-26) through the official
``alibabacloud_ecs20140526`` SDK, paged by ``NextToken``, sharing the SLB
client's credentials, endpoint, rate limit, call counts and read retry
policy (a throttled or failed page is read again, as SLB reads are). With
``endpoint`` set to a URL (the emulator) ECS goes there too; against the
cloud the SDK picks ECS's own endpoint for the region, and the target
option ``ecs_endpoint`` overrides it.

API reference: https://api.aliyun.com/document/Ecs/2014-05-26/DescribeInstances
"""

from __future__ import annotations

import copy
import logging
import threading
from functools import partial
from typing import Any

from darabonba.runtime import RuntimeOptions

from slbsync.spec.model import LoadBalancer, Server, ServerGroup, ServerType
from slbsync.targets.alibaba_slb.client import SlbClient
from slbsync.targets.alibaba_slb.errors import translate

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the most DescribeInstances returns in one page
MAX_PAGES = 1000  # bounded: 100,000 instances
ACTION = "DescribeInstances"


class InstanceDiscovery:
    """Lists tagged instances once per (VPC, tags) for one plan."""

    def __init__(self, client: SlbClient, region: str) -> None:
        self.client = client
        self.region = region
        self._sdk: Any = None
        self._found: dict[tuple[Any, ...], list[str]] = {}
        self._lock = threading.RLock()

    def servers(self, lb: LoadBalancer, group: ServerGroup) -> tuple[Server, ...]:
        """The members ``group`` should have now, sorted by instance id."""
        rule = group.discover
        if rule is None:
            return group.servers
        vpc = rule.vpc_id or lb.vpc_id
        key = (vpc, rule.instance_tags)
        with self._lock:
            if key not in self._found:
                self._found[key] = self._running_instances(vpc, rule.instance_tags)
            ids = self._found[key]
        return tuple(
            Server(port=rule.port, id=instance, weight=rule.weight, type=ServerType.ECS)
            for instance in ids
        )

    def _running_instances(
        self, vpc: str | None, tags: tuple[tuple[str, str], ...]
    ) -> list[str]:
        if vpc is None:
            log.warning(
                "discover: target=%s no vpc_id on the group or its load balancer; "
                "searching the whole region %s",
                self.client.spec.name,
                self.region,
            )
        params: dict[str, Any] = {
            "RegionId": self.region,
            "Status": "Running",
            "Tag": [{"Key": key, "Value": value} for key, value in tags],
            "MaxResults": PAGE_SIZE,
        }
        if vpc:
            params["VpcId"] = vpc
        found: list[str] = []
        token = ""
        for _ in range(MAX_PAGES):
            page = dict(params, NextToken=token) if token else params
            # The SLB reads' retry policy: a throttled page is read again.
            body = self.client.with_read_retries(ACTION, partial(self._call, page))
            items = (body.get("Instances") or {}).get("Instance") or []
            found.extend(str(item["InstanceId"]) for item in items)
            token = str(body.get("NextToken") or "")
            if not token:
                break
        log.info(
            "discover: target=%s vpc=%s tags=%s running=%d",
            self.client.spec.name,
            vpc or "*",
            dict(tags),
            len(found),
        )
        return sorted(set(found))

    def _call(self, params: dict[str, Any]) -> dict[str, Any]:
        # Imported on first use: the ECS models take a third of a second to
        # import, which every register process would otherwise pay.
        from alibabacloud_ecs20140526 import models as ecs_models

        request = ecs_models.DescribeInstancesRequest().from_map(params)
        self.client.limiter.acquire()
        try:
            response = self._client().describe_instances_with_options(
                request, RuntimeOptions()
            )
        except Exception as err:
            error = translate(err, self.client.spec.name, ACTION)
            self.client.count_call(ACTION, error.code or "error")
            if error.throttling:
                self.client.limiter.slow_down()
            raise error from err
        self.client.count_call(ACTION, "ok")
        self.client.limiter.recover()
        return response.body.to_map() if response.body is not None else {}

    def _client(self) -> Any:
        from alibabacloud_ecs20140526.client import Client as EcsSdkClient

        with self._lock:
            if self._sdk is None:
                config = copy.copy(self.client.sdk_config())
                override = self.client.spec.option("ecs_endpoint")
                if override:
                    config.endpoint = str(override).split("//")[-1]
                self._sdk = EcsSdkClient(config)
            return self._sdk
