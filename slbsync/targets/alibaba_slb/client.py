"""One SLB API call at a time through the official SDK, counted and limited.

``SlbClient.call(action, params)`` builds the SDK's request model from wire
parameter names, sends it with ``RegionId`` set, and returns the response
body as the SDK's plain dict (PascalCase keys). Raw dicts stay inside this
package; what leaves it is the spec model.

The SDK client is built on first use, never in a constructor: the spec
validator builds targets with no network and no credentials.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from alibabacloud_slb20140515 import models as slb_models
from alibabacloud_slb20140515.client import Client as SdkClient
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

from slbsync.errors import TargetError
from slbsync.ratelimit import RateLimiter
from slbsync.spec.model import TargetSpec
from slbsync.targets.alibaba_slb.errors import SlbApiError, translate
from slbsync.targets.alibaba_slb.options import option_number
from slbsync.targets.alibaba_slb.redact import guard_library_logs, redact_params

log = logging.getLogger(__name__)

DEFAULT_STATE_DIR = ".slbsync"
READ_RETRY_WAIT = 0.1  # seconds: the scale of the jittered exponential backoff
READ_RETRY_SECONDS = 60.0  # default time one read may keep retrying

T = TypeVar("T")


def _is_retryable_read(error: BaseException) -> bool:
    return isinstance(error, SlbApiError) and (error.transient or error.outcome_unknown)


def method_name(action: str) -> str:
    """The SDK method for an action: ``CreateLoadBalancerHTTPListener`` is
    ``create_load_balancer_httplistener`` (acronyms stick to the next word)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", action).lower()


def build_request(action: str, params: Mapping[str, Any]) -> Any:
    """The SDK request model for ``action`` filled from wire names.

    The SDK spells a few names with a lower-case first letter
    (``healthCheckInterval`` on TCP and UDP create), so a name the model
    does not take is tried with its first letter's case swapped; a name
    neither spelling fits is a bug in the caller and raises.
    """
    request_class = getattr(slb_models, f"{action}Request")
    fixed: dict[str, Any] = {}
    probe = request_class()
    for key, value in params.items():
        if value is None:
            continue
        for name in (key, key[:1].swapcase() + key[1:]):
            if name in probe.from_map({name: value}).to_map():
                fixed[name] = value
                break
            probe = request_class()
        else:
            raise TargetError(f"{action} takes no parameter {key}; this is a bug")
    return request_class().from_map(fixed)


class SlbClient:
    """The SDK client of one target, with call counting and a rate limit."""

    def __init__(self, spec: TargetSpec, limiter: RateLimiter) -> None:
        self.spec = spec
        self.region = spec.region or "cn-hangzhou"
        self.limiter = limiter
        self.read_retry_seconds = option_number(
            spec, "read_retry_seconds", READ_RETRY_SECONDS
        )
        self.calls: Counter[str] = Counter()
        # (action, "ok" or the error code): what the drift metrics count.
        self.results: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._sdk: SdkClient | None = None
        self._config_built: Config | None = None

    def call(
        self, action: str, params: Mapping[str, Any], *, limited: bool = True
    ) -> dict[str, Any]:
        """Make one call; raise ``SlbApiError`` (chained) when it fails.

        ``limited=False`` skips the rate limiter, for a caller (the apply
        runner) that already took a token for this call and slows down itself.
        """
        sdk = self._client()
        request = build_request(action, {"RegionId": self.region, **params})
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "call: target=%s action=%s params=%s",
                self.spec.name,
                action,
                redact_params(request.to_map()),
            )
        if limited:
            self.limiter.acquire()
        with self._lock:
            self.calls[action] += 1
        try:
            response = getattr(sdk, f"{method_name(action)}_with_options")(
                request, RuntimeOptions()
            )
        except Exception as err:
            error = translate(err, self.spec.name, action)
            with self._lock:
                self.results[(action, error.code or "error")] += 1
            if error.throttling and limited:
                self.limiter.slow_down()
            raise error from err
        with self._lock:
            self.results[(action, "ok")] += 1
        if limited:
            self.limiter.recover()
        body = response.body.to_map() if response.body is not None else {}
        return body

    def read(self, action: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Make one side-effect-free call, retrying transient failures.

        A read changes nothing, so even a call whose answer was lost is safe
        to repeat; a plan made under throttling must not fail for one
        throttled Describe among dozens. Each try goes through the rate
        limiter, which slows down on throttling.
        """
        return self.with_read_retries(action, lambda: self.call(action, params))

    def with_read_retries(self, action: str, read: Callable[[], T]) -> T:
        """``read()``, made again after a transient failure: the read policy.

        Shared by every side-effect-free call of this target, SLB's and
        ECS's (discovery), so one throttled page never fails a plan.
        """
        retrying = Retrying(
            retry=retry_if_exception(_is_retryable_read),
            wait=wait_random_exponential(multiplier=READ_RETRY_WAIT, max=5),
            stop=stop_after_delay(self.read_retry_seconds),
            before_sleep=lambda state: log.info(
                "call: read again target=%s action=%s attempt=%d delay=%.2fs cause=%s",
                self.spec.name,
                action,
                state.attempt_number,
                state.upcoming_sleep,
                state.outcome.exception() if state.outcome else "unknown",
            ),
            reraise=True,
        )
        return retrying(read)

    def count_call(self, action: str, result: str) -> None:
        """Count a call made beside the SLB SDK (ECS ``DescribeInstances``)."""
        with self._lock:
            self.calls[action] += 1
            self.results[(action, result)] += 1

    def sdk_config(self) -> Config:
        """The SDK configuration, built once (``endpoint: local`` starts the
        emulator on first use); the ECS client of discovery shares it."""
        with self._lock:
            if self._config_built is None:
                guard_library_logs()
                self._config_built = self._config()
            return self._config_built

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.calls)

    def result_counts(self) -> dict[tuple[str, str], int]:
        """Calls by (action, result): ``ok`` or the error code."""
        with self._lock:
            return dict(self.results)

    def _client(self) -> SdkClient:
        config = self.sdk_config()
        with self._lock:
            if self._sdk is None:
                self._sdk = SdkClient(config)
            return self._sdk

    def _config(self) -> Config:
        endpoint = self.spec.endpoint
        config = Config(
            region_id=self.region,
            read_timeout=int(option_number(self.spec, "read_timeout_ms", 10000)),
            connect_timeout=int(option_number(self.spec, "connect_timeout_ms", 5000)),
        )
        if endpoint == "local":
            url, key_id, key_secret = _start_local_emulator(self.spec)
            config.access_key_id = key_id
            config.access_key_secret = key_secret
            endpoint = url
        else:
            config.credential = _credentials(self.spec.profile)
        if endpoint:
            parts = urlsplit(endpoint if "//" in endpoint else f"http://{endpoint}")
            config.endpoint = parts.netloc
            config.protocol = parts.scheme or "https"
        else:
            config.protocol = "https"
        return config


def _start_local_emulator(spec: TargetSpec) -> tuple[str, str, str]:
    # Imported here: only ``endpoint: local`` needs the emulator in-process.
    from slbsync.emulator.embedded import local_emulator

    state_dir = str(spec.option("state_dir", DEFAULT_STATE_DIR))
    endpoint, key_id, key_secret = local_emulator(state_dir)
    return str(endpoint), str(key_id), str(key_secret)


def _credentials(profile: str | None) -> Any:
    """Credentials from the default chain, or from the named profile."""
    from alibabacloud_credentials.client import Client as CredentialClient

    # The chain's first step, environment variables, read now: the library
    # reads them once at import, which misses a variable set afterwards.
    key_id = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_ID")
    key_secret = os.environ.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
    if not profile and key_id and key_secret:
        from alibabacloud_credentials.models import Config as CredentialConfig

        token = os.environ.get("ALIBABA_CLOUD_SECURITY_TOKEN")
        return CredentialClient(
            CredentialConfig(
                type="sts" if token else "access_key",
                access_key_id=key_id,
                access_key_secret=key_secret,
                security_token=token,
            )
        )
    if not profile:
        return CredentialClient()
    from alibabacloud_credentials.provider.cli_profile import (
        CLIProfileCredentialsProvider,
    )
    from alibabacloud_credentials.provider.profile import (
        ProfileCredentialsProvider,
    )

    # The aliyun CLI's config.json when it exists, else the INI profile file.
    cli_file = os.path.join(os.path.expanduser("~"), ".aliyun", "config.json")
    if os.path.exists(cli_file):
        provider: Any = CLIProfileCredentialsProvider(profile_name=profile)
    else:
        provider = ProfileCredentialsProvider(profile_name=profile)
    return CredentialClient(provider=provider)


def is_gone(error: SlbApiError) -> bool:
    """True when a read failed because the thing read is gone."""
    return error.status == 404 or error.code.endswith("NotFound")
