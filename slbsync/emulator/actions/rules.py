"""Forwarding rule actions: create, delete, describe, set.

Reference: https://www.alibabacloud.com/help/en/slb/classic-load-balancer/
developer-reference/api-slb-2014-05-15-createrules (and the neighbouring
pages for each action below).

``DryRun`` is emulated the way Alibaba's newer load balancer APIs document
it (HTTP 400 ``DryRunOperation`` once every check passed); the reference
leaves its CLB behaviour unverified. Rule-level overrides inside
``RuleList`` items (``ListenerSync``, ``Scheduler``, ...) are not emulated
and refused; set them with ``SetRule``.
"""

from __future__ import annotations

import re
from typing import Any

from slbsync.emulator.errors import ApiError, InvalidParameter, NotEmulated
from slbsync.emulator.params import Params
from slbsync.emulator.registry import ActionContext, action
from slbsync.emulator.state import listeners as listener_state
from slbsync.emulator.state import load_balancers as lb_state
from slbsync.emulator.state import rules as rule_state
from slbsync.emulator.state import server_groups as group_state
from slbsync.emulator.state.rules import RuleRecord
from slbsync.emulator.state.store import Store

RULE_NAME = r"[A-Za-z0-9/._-]{1,40}"
DOMAIN = r"(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*"
URL = r"/[A-Za-z0-9/.%?#&-]{1,79}"
HEALTH_CHECK_URI = r"/[A-Za-z0-9/.%?#&_-]{1,79}"
HEALTH_CHECK_DOMAIN = r"\$_ip|[A-Za-z0-9.-]{1,80}"
HTTP_CODES = ("http_2xx", "http_3xx", "http_4xx", "http_5xx")
_RULE_LIST_OVERRIDES = ("ListenerSync", "Scheduler", "StickySession", "HealthCheck")

# A rule's own settings (ListenerSync off): wire name -> listener attribute
# the setting comes from while the rule follows its listener.
SETTINGS = {
    "Scheduler": "scheduler",
    "StickySession": "sticky_session",
    "StickySessionType": "sticky_session_type",
    "Cookie": "cookie",
    "CookieTimeout": "cookie_timeout",
    "HealthCheck": "health_check",
    "HealthCheckConnectPort": "health_check_connect_port",
    "HealthCheckDomain": "health_check_domain",
    "HealthCheckHttpCode": "health_check_http_code",
    "HealthCheckInterval": "health_check_interval",
    "HealthCheckTimeout": "health_check_timeout",
    "HealthCheckURI": "health_check_uri",
    "HealthyThreshold": "healthy_threshold",
    "UnhealthyThreshold": "unhealthy_threshold",
}


class RuleNotSupported(ApiError):
    code = "RuleNotSupport"

    def __init__(self, protocol: str) -> None:
        super().__init__(
            message=f"Rule is not support in the {protocol} type listener. "
            "Forwarding rules need an HTTP or HTTPS listener."
        )


class RuleListMalformed(ApiError):
    code = "RuleListMalformed"

    def __init__(self, detail: str) -> None:
        super().__init__(
            message=f"the specified parameter RuleList is unavailable. {detail}"
        )


class DomainUrlExists(ApiError):
    code = "DomainExist"

    def __init__(self, domain: str, url: str) -> None:
        super().__init__(
            message="rule with same domain and url already exists in specified "
            f'vip (domain "{domain}", url "{url}").'
        )


class TooManyRules(ApiError):
    code = "TooManyRules"

    def __init__(self) -> None:
        super().__init__(
            message="the number of rules under specified vip is beyond maximum "
            f"limit: {rule_state.RULES_PER_LISTENER}."
        )


class GroupOfAnotherLoadBalancer(ApiError):
    code = "VipNotMatchRspool"

    def __init__(self, group_id: str) -> None:
        super().__init__(
            message="The vip protocol is not match with Rspool: VServer group "
            f"{group_id} belongs to another load balancer."
        )


class DryRunPassed(ApiError):
    code = "DryRunOperation"

    def __init__(self) -> None:
        super().__init__(
            message="Request validation has been passed with DryRun flag set."
        )


def _listener_of(
    ctx: ActionContext, lb_id: str, protocol: str | None, port: int
) -> Any:
    listener = listener_state.get_listener(ctx.store, lb_id, protocol, port)
    if listener.protocol not in ("http", "https"):
        raise RuleNotSupported(listener.protocol)
    return listener


def _group_of_load_balancer(store: Store, group_id: Any, lb_id: str) -> str:
    if not isinstance(group_id, str) or not group_id:
        raise InvalidParameter("VServerGroupId", "Each rule needs a VServerGroupId.")
    group = group_state.get_vserver_group(store, group_id)
    if group.load_balancer_id != lb_id:
        raise GroupOfAnotherLoadBalancer(group_id)
    return group_id


def _check_rule_name(name: Any) -> str:
    if not isinstance(name, str) or not re.fullmatch(RULE_NAME, name):
        raise InvalidParameter(
            "RuleName",
            "Use 1 to 40 characters: letters, digits, hyphens (-), forward "
            "slashes (/), periods (.) or underscores (_).",
        )
    return name


def _check_domain_and_url(domain: Any, url: Any) -> tuple[str, str]:
    domain = "" if domain is None else str(domain)
    url = "" if url is None else str(url)
    if not domain and not url:
        raise RuleListMalformed("Each rule needs a Domain, a Url or both.")
    if domain and (len(domain) > 80 or not re.fullmatch(DOMAIN, domain)):
        raise ApiError(
            "DomainMalformed",
            "the specified domain in RuleList parameter is unavailable: "
            f'"{domain}" is not a domain name or a *. wildcard domain.',
        )
    if url == "/":
        raise ApiError(
            "URLNotSupport", 'the URL in the rule is invalid: "/" alone is not allowed.'
        )
    if url and not re.fullmatch(URL, url):
        raise ApiError(
            "UrlMalformed",
            "the specified url in RuleList parameter is unavailable: "
            f'"{url}" must start with "/" and hold up to 80 letters, digits or '
            "- / . % ? # &.",
        )
    return domain, url


def _parse_rule_list(ctx: ActionContext) -> list[dict[str, Any]]:
    try:
        raw = ctx.params.json("RuleList", required=True)
    except InvalidParameter:
        raise RuleListMalformed("It is not valid JSON.") from None
    if not isinstance(raw, list) or not raw:
        raise RuleListMalformed("Send a JSON list of rules.")
    if len(raw) > rule_state.RULES_PER_CALL:
        raise RuleListMalformed(
            f"At most {rule_state.RULES_PER_CALL} rules are allowed per call."
        )
    items = []
    for item in raw:
        if not isinstance(item, dict):
            raise RuleListMalformed(f"{item!r} is not an object.")
        for key in _RULE_LIST_OVERRIDES:
            if key in item:
                raise NotEmulated(f"{key} inside RuleList of CreateRules")
        items.append(item)
    return items


def _planned_rules(
    ctx: ActionContext, lb_id: str, existing: list[RuleRecord]
) -> list[tuple[str, str, str, str]]:
    """The requested rules as (name, domain, url, group), each checked against
    the listener's rules and the others in the request."""
    names = {rule.rule_name for rule in existing}
    matches = {(rule.domain, rule.url) for rule in existing}
    planned = []
    for item in _parse_rule_list(ctx):
        name = _check_rule_name(item.get("RuleName"))
        domain, url = _check_domain_and_url(item.get("Domain"), item.get("Url"))
        group_id = _group_of_load_balancer(ctx.store, item.get("VServerGroupId"), lb_id)
        if name in names:
            raise InvalidParameter(
                "RuleName", f'A rule named "{name}" already exists on this listener.'
            )
        if (domain, url) in matches:
            raise DomainUrlExists(domain, url)
        names.add(name)
        matches.add((domain, url))
        planned.append((name, domain, url, group_id))
    return planned


@action("CreateRules", writes=True)
def create_rules(ctx: ActionContext) -> dict[str, Any]:
    """Add up to 10 rules to an HTTP or HTTPS listener (40 per listener).

    https://api.aliyun.com/document/Slb/2014-05-15/CreateRules
    """
    params = ctx.params
    lb = lb_state.get_load_balancer(
        ctx.store, params.str("LoadBalancerId"), for_write=True
    )
    port = params.int("ListenerPort", required=True, minimum=1, maximum=65535)
    assert port is not None
    protocol = listener_state.optional_protocol(ctx)
    listener = _listener_of(ctx, lb.load_balancer_id, protocol, port)

    existing = rule_state.rules_of_listener(
        ctx.store, lb.load_balancer_id, listener.protocol, listener.port
    )
    planned = _planned_rules(ctx, lb.load_balancer_id, existing)
    if len(existing) + len(planned) > rule_state.RULES_PER_LISTENER:
        raise TooManyRules()
    listener_state.check_not_configuring(ctx, listener)
    if params.bool("DryRun", default=False):
        raise DryRunPassed()

    created = [
        rule_state.new_rule(
            ctx.store,
            rule_name=name,
            load_balancer_id=lb.load_balancer_id,
            listener_port=listener.port,
            listener_protocol=listener.protocol,
            domain=domain,
            url=url,
            vserver_group_id=group_id,
            create_time=ctx.now,
        )
        for name, domain, url, group_id in planned
    ]
    listener_state.mark_configuring(ctx, listener)
    return {
        "Rules": {
            "Rule": [
                {"RuleId": rule.rule_id, "RuleName": rule.rule_name} for rule in created
            ]
        }
    }


@action("DeleteRules", writes=True)
def delete_rules(ctx: ActionContext) -> dict[str, Any]:
    """Delete up to 10 rules by id; every id must exist, or nothing changes.

    https://api.aliyun.com/document/Slb/2014-05-15/DeleteRules
    """
    raw = ctx.params.json("RuleIds", required=True)
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter("RuleIds", 'Send a JSON list of ids: ["rule-..."].')
    if len(raw) > rule_state.RULES_PER_CALL:
        raise InvalidParameter(
            "RuleIds", f"At most {rule_state.RULES_PER_CALL} ids are allowed per call."
        )
    doomed = [rule_state.get_rule(ctx.store, str(rule_id)) for rule_id in raw]
    listeners = []
    for rule in doomed:
        lb_state.get_load_balancer(ctx.store, rule.load_balancer_id, for_write=True)
        listener = listener_state.get_listener(
            ctx.store, rule.load_balancer_id, rule.listener_protocol, rule.listener_port
        )
        listener_state.check_not_configuring(ctx, listener)
        listeners.append(listener)

    table = rule_state.rules(ctx.store)
    for rule in doomed:
        table.pop(rule.rule_id, None)
    for listener in listeners:
        listener_state.mark_configuring(ctx, listener)
    return {}


def _settings(rule: RuleRecord, listener: Any) -> dict[str, Any]:
    """The rule's own settings, or its listener's while it follows the listener."""
    if rule.listener_sync == "off":
        values = dict(rule.overrides)
    else:
        values = {
            wire: getattr(listener, attribute, None)
            for wire, attribute in SETTINGS.items()
        }
    return {wire: value for wire, value in values.items() if value is not None}


def _rule_body(rule: RuleRecord, listener: Any) -> dict[str, Any]:
    return {
        "RuleId": rule.rule_id,
        "RuleName": rule.rule_name,
        "Domain": rule.domain,
        "Url": rule.url,
        "VServerGroupId": rule.vserver_group_id,
        "ListenerSync": rule.listener_sync,
        **_settings(rule, listener),
    }


@action("DescribeRules")
def describe_rules(ctx: ActionContext) -> dict[str, Any]:
    """A listener's rules, oldest first.

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeRules
    """
    params = ctx.params
    lb = lb_state.get_load_balancer(ctx.store, params.str("LoadBalancerId"))
    port = params.int("ListenerPort", required=True, minimum=1, maximum=65535)
    assert port is not None
    protocol = listener_state.optional_protocol(ctx)
    listener = listener_state.get_listener(
        ctx.store, lb.load_balancer_id, protocol, port
    )
    found = rule_state.rules_of_listener(
        ctx.store, lb.load_balancer_id, listener.protocol, listener.port
    )
    return {"Rules": {"Rule": [_rule_body(rule, listener) for rule in found]}}


@action("DescribeRuleAttribute")
def describe_rule_attribute(ctx: ActionContext) -> dict[str, Any]:
    """One rule, with its load balancer and listener port (a string, as the
    SDK model has it).

    https://api.aliyun.com/document/Slb/2014-05-15/DescribeRuleAttribute
    """
    rule = rule_state.get_rule(ctx.store, ctx.params.str("RuleId"))
    listener = listener_state.get_listener(
        ctx.store, rule.load_balancer_id, rule.listener_protocol, rule.listener_port
    )
    body = _rule_body(rule, listener)
    body["LoadBalancerId"] = rule.load_balancer_id
    body["ListenerPort"] = str(rule.listener_port)
    return body


def _read_settings(params: Params) -> dict[str, Any]:
    """The rule settings present in a SetRule request, validated."""
    read: dict[str, Any] = {
        "Scheduler": params.str("Scheduler", choices=("wrr", "rr")),
        "StickySession": params.switch("StickySession"),
        "StickySessionType": params.str(
            "StickySessionType", choices=("insert", "server")
        ),
        "CookieTimeout": params.int("CookieTimeout", minimum=1, maximum=86400),
        "HealthCheck": params.switch("HealthCheck"),
        "HealthCheckConnectPort": params.int(
            "HealthCheckConnectPort", minimum=1, maximum=65535
        ),
        "HealthCheckInterval": params.int("HealthCheckInterval", minimum=1, maximum=50),
        "HealthCheckTimeout": params.int("HealthCheckTimeout", minimum=1, maximum=300),
        "HealthyThreshold": params.int("HealthyThreshold", minimum=2, maximum=10),
        "UnhealthyThreshold": params.int("UnhealthyThreshold", minimum=2, maximum=10),
        "Cookie": _cookie(params),
        "HealthCheckDomain": params.str(
            "HealthCheckDomain", pattern=HEALTH_CHECK_DOMAIN
        ),
        "HealthCheckURI": _health_check_uri(params),
        "HealthCheckHttpCode": _http_codes(params),
    }
    return {wire: value for wire, value in read.items() if value is not None}


def _cookie(params: Params) -> str | None:
    cookie = params.str("Cookie")
    if cookie is None:
        return None
    if (
        len(cookie) > 200
        or cookie.startswith("$")
        or not cookie.isascii()
        or any(char in cookie for char in ",; \t")
    ):
        raise InvalidParameter(
            "Cookie",
            "Use 1 to 200 ASCII characters without commas, semicolons or spaces, "
            "not starting with $.",
        )
    return cookie


def _health_check_uri(params: Params) -> str | None:
    uri = params.str("HealthCheckURI")
    if uri is not None and not re.fullmatch(HEALTH_CHECK_URI, uri):
        raise InvalidParameter(
            "HealthCheckURI",
            'Use 2 to 80 characters starting with "/": letters, digits or '
            "- / . % ? # & _.",
        )
    return uri


def _http_codes(params: Params) -> str | None:
    codes = params.str("HealthCheckHttpCode")
    if codes is not None and not set(codes.split(",")) <= set(HTTP_CODES):
        raise InvalidParameter(
            "HealthCheckHttpCode", f"Use a comma list of {', '.join(HTTP_CODES)}."
        )
    return codes


def _check_settings(settings: dict[str, Any]) -> None:
    """What an own sticky-session setting needs, once the rule stops following."""
    if settings.get("StickySession") != "on":
        return
    kind = settings.get("StickySessionType")
    if not kind:
        raise ApiError(
            "MissingParameter",
            "StickySessionType is required when StickySession is on.",
        )
    if kind == "insert" and settings.get("CookieTimeout") is None:
        raise ApiError(
            "MissingParameter",
            "CookieTimeout is required when StickySessionType is insert.",
        )
    if kind == "server" and not settings.get("Cookie"):
        raise ApiError(
            "MissingParameter", "Cookie is required when StickySessionType is server."
        )


@action("SetRule", writes=True)
def set_rule(ctx: ActionContext) -> dict[str, Any]:
    """Change a rule's group, name, or own settings (with ListenerSync off).

    https://api.aliyun.com/document/Slb/2014-05-15/SetRule
    """
    params = ctx.params
    rule = rule_state.get_rule(ctx.store, params.str("RuleId"))
    lb_state.get_load_balancer(ctx.store, rule.load_balancer_id, for_write=True)
    listener = listener_state.get_listener(
        ctx.store, rule.load_balancer_id, rule.listener_protocol, rule.listener_port
    )

    group_id = params.str("VServerGroupId")
    if group_id is not None:
        _group_of_load_balancer(ctx.store, group_id, rule.load_balancer_id)
    name = params.str("RuleName")
    if name is not None:
        _check_rule_name(name)
        siblings = rule_state.rules_of_listener(
            ctx.store, rule.load_balancer_id, rule.listener_protocol, rule.listener_port
        )
        if any(other.rule_name == name and other is not rule for other in siblings):
            raise InvalidParameter(
                "RuleName", f'A rule named "{name}" already exists on this listener.'
            )
    sync = params.switch("ListenerSync") or rule.listener_sync

    # A rule that stops following its listener starts from the listener's
    # settings, so a request need not repeat every one of them.
    settings = dict(rule.overrides)
    if rule.listener_sync == "on" and sync == "off":
        settings = _settings(rule, listener)
    settings.update(_read_settings(params))
    if sync == "off":
        _check_settings(settings)
    listener_state.check_not_configuring(ctx, listener)
    if params.bool("DryRun", default=False):
        raise DryRunPassed()

    rule.vserver_group_id = group_id or rule.vserver_group_id
    rule.rule_name = name or rule.rule_name
    rule.listener_sync = sync
    rule.overrides = settings
    listener_state.mark_configuring(ctx, listener)
    return {}


def _drop_rules_of_load_balancer(store: Store, lb_id: str) -> None:
    rule_state.delete_rules_of_load_balancer(store, lb_id)


lb_state.register_cleanup(_drop_rules_of_load_balancer)
