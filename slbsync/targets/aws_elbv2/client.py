"""The boto3 ``elbv2`` client, made on first use, counting every call.

Credentials come from boto3's usual chain only (environment, shared files,
the target's ``profile``, instance roles); the region from the target or
that chain; ``endpoint`` points at another URL (moto's server in tests).
botocore's own retries are off: the apply runner retries what
``errors.ElbApiError`` marks transient, once, in one place.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from botocore import xform_name  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from slbsync.spec.model import TargetSpec
from slbsync.targets.aws_elbv2.errors import translate

log = logging.getLogger(__name__)

PAGE_SIZE = 400  # the most DescribeLoadBalancers/DescribeTargetGroups return

ClientFactory = Callable[[TargetSpec], Any]


def boto3_client(spec: TargetSpec, service: str = "elbv2") -> Any:
    """A ``service`` client from boto3's chain, without SDK-side retries."""
    import boto3  # type: ignore[import-untyped]

    session = boto3.session.Session(profile_name=spec.profile)
    config = Config(
        retries={"max_attempts": 1, "mode": "standard"},
        connect_timeout=float(spec.option("connect_timeout", 5)),
        read_timeout=float(spec.option("read_timeout", 20)),
    )
    return session.client(
        service,
        region_name=spec.region or session.region_name,
        endpoint_url=spec.endpoint or None,
        config=config,
    )


class ElbClient:
    """Calls by action name (``DescribeLoadBalancers``), errors translated."""

    def __init__(self, spec: TargetSpec, factory: ClientFactory = boto3_client) -> None:
        self.spec = spec
        self.factory = factory
        self._client: Any = None
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._results: Counter[tuple[str, str]] = Counter()

    @property
    def raw(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self.factory(self.spec)
            return self._client

    def call(self, action: str, **params: Any) -> dict[str, Any]:
        """One API call; raises ``ElbApiError``."""
        try:
            method = getattr(self.raw, xform_name(action))
        except (BotoCoreError, ClientError) as err:
            raise translate(err, self.spec.name, action) from err
        with self._lock:
            self._counts[action] += 1
        log.debug("aws: call=%s params=%s", action, _keys(params))
        try:
            response: dict[str, Any] = method(**params)
        except (BotoCoreError, ClientError) as err:
            failure = translate(err, self.spec.name, action)
            self._count_result(action, failure.code)
            raise failure from err
        self._count_result(action, "ok")
        return response

    def pages(self, action: str, key: str, **params: Any) -> list[dict[str, Any]]:
        """Every item of a Marker-paged list call."""
        items: list[dict[str, Any]] = []
        marker: str | None = None
        while True:
            page_params = dict(params)
            if marker:
                page_params["Marker"] = marker
            response = self.call(action, **page_params)
            items.extend(response.get(key, []))
            marker = response.get("NextMarker")
            if not marker:
                return items

    def tagged(self, **params: Any) -> list[dict[str, Any]]:
        """Every resource GetResources (Resource Groups Tagging API) matches."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            response = self.call("GetResources", PaginationToken=token, **params)
            items.extend(response.get("ResourceTagMappingList", []))
            token = response.get("PaginationToken") or ""
            if not token:
                return items

    def _count_result(self, action: str, result: str) -> None:
        with self._lock:
            self._results[(action, result)] += 1

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def result_counts(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._results)


def _keys(params: dict[str, Any]) -> str:
    # Parameter names only: values may carry names people treat as private.
    return ",".join(sorted(params))
