"""What Elastic Load Balancing v2 cannot do, found before any call.

Each problem is ``"<file:line:col> <field path>: <what to do>"`` like the
other targets'. Ranges come from the Elastic Load Balancing API reference
(CreateTargetGroup, ModifyTargetGroupAttributes, CreateLoadBalancer).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from slbsync.spec.model import (
    ForwardingRule,
    HealthCheck,
    Listener,
    LoadBalancer,
    Location,
    Membership,
    Protocol,
    Scheduler,
    ServerType,
    Spec,
)
from slbsync.targets.aws_elbv2.mapping import (
    ALB_ALGORITHM,
    APPLICATION,
    NETWORK,
    NLB_SCHEDULERS,
    PROTOCOLS_BY_TYPE,
    load_balancer_type,
    normalise_listener,
    settings_of,
)
from slbsync.targets.aws_elbv2.names import (
    ARN_PREFIX,
    is_valid_name,
    target_group_name,
)
from slbsync.targets.aws_elbv2.rules import MAX_PATTERN, hides

# The characters AWS takes in path-pattern and host-header values, less the
# wildcards * and ? (a spec url is a literal prefix; "*." leads a domain).
AWS_PATH = re.compile(rf"/[A-Za-z0-9_\-.$/~\"'@:+&]{{0,{MAX_PATTERN - 2}}}")
AWS_HOST = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
MAX_RULES = 100  # per application load balancer, default rules not counted
MAX_TAGS = 47  # 50 per resource, three of them slbsync's own marks
HEALTH_RANGES = (
    ("interval", 5, 300),
    ("timeout", 2, 120),
    ("healthy_threshold", 2, 10),
    ("unhealthy_threshold", 2, 10),
)

# The load balancer settings of some targets only (fields.PER_TARGET_LB_FIELDS)
# that ELBv2 takes; the spec refuses the others on an aws-elbv2 target.
LB_SETTINGS = frozenset(
    {
        "address_type",
        "address_ip_version",
        "deletion_protection",
        "type",
        "subnets",
        "security_groups",
        "tags",
    }
)
_PLACED_BY_SUBNETS = (
    "the aws-elbv2 target places a load balancer by subnets (the VPC and zones "
    "follow from them): use subnets"
)
_BILLED_BY_USE = "AWS bills load balancers by capacity units used: remove it"
INSTEAD_OF = {
    "vswitch_id": _PLACED_BY_SUBNETS,
    "vpc_id": _PLACED_BY_SUBNETS,
    "master_zone_id": _PLACED_BY_SUBNETS,
    "slave_zone_id": _PLACED_BY_SUBNETS,
    "instance_charge_type": _BILLED_BY_USE,
    "spec": _BILLED_BY_USE,
    "internet_charge_type": _BILLED_BY_USE,
    "bandwidth": _BILLED_BY_USE,
    "modification_protection": "AWS protects a load balancer from deletes only: "
    "use deletion_protection or remove it",
    "modification_protection_reason": "AWS protects a load balancer from deletes "
    "only: use deletion_protection or remove it",
    "resource_group_id": "group AWS resources with tags: remove it",
}
# Listener knobs AWS has no per-listener equivalent for, with their unset value.
FOREIGN_LISTENER_FIELDS = {
    "bandwidth": -1,
    "description": None,
    "acl": None,
    "persistence_timeout": 0,
    "established_timeout": None,
    "x_forwarded_for": None,
    "gzip": None,
    "idle_timeout": None,
    "request_timeout": None,
    "ca_certificate": None,
    "http2": None,
    "tls_cipher_policy": None,
}
HINTS = {
    "persistence_timeout": "use scheduler: source_hash (stickiness by source IP)",
    "acl": "AWS filters clients with security groups: use security_groups",
    "ca_certificate": "mutual TLS is set up on AWS trust stores, not by slbsync",
    "idle_timeout": "AWS sets it per load balancer; not managed by slbsync yet",
}


def problems_in(spec: Spec, target: str) -> list[str]:
    """Every problem AWS would have with the parts of ``spec`` on ``target``."""
    found: list[str] = []
    for lb in spec.load_balancers_on(target):
        found.extend(_load_balancer(lb))
    for acl in spec.acls_on(target):
        found.append(
            _at(
                acl.location,
                f"acls.{acl.name}",
                "aws-elbv2 has no access control lists; use security_groups on "
                "the load balancer",
            )
        )
    for cert in spec.certificates_on(target):
        found.append(
            _at(
                cert.location,
                f"certificates.{cert.name}",
                "aws-elbv2 takes certificates by ARN (import them into ACM and "
                "give the listener's certificate as arn:aws:acm:...)",
            )
        )
    return found


def _a(kind: str) -> str:
    return f"an {kind}" if kind == APPLICATION else f"a {kind}"


def _at(location: Location | None, path: str, message: str) -> str:
    where = f"{location} " if location else ""
    return f"{where}{path}: {message}"


def _load_balancer(lb: LoadBalancer) -> Iterator[str]:
    base = f"load_balancers.{lb.name}"
    kind = load_balancer_type(lb)
    if not is_valid_name(lb.name):
        yield _at(
            lb.location,
            base,
            "an aws-elbv2 load balancer name has 1 to 32 letters, digits or "
            "'-', not at either end, and does not start with internal-",
        )
    if not lb.subnets:
        yield _at(
            lb.location,
            f"{base}.subnets",
            f"{_a(kind)} load balancer needs subnets (their ids, subnet-...)",
        )
    if len(lb.tags) > MAX_TAGS:
        yield _at(lb.location, f"{base}.tags", f"at most {MAX_TAGS} tags fit")
    yield from _groups(lb, base)
    rules = sum(len(listener.rules) for listener in lb.listeners)
    if rules > MAX_RULES:
        yield _at(
            lb.location,
            f"{base}.listeners",
            f"{rules} forwarding rules; an application load balancer takes at "
            f"most {MAX_RULES} (AWS's default quota): split the load balancer",
        )
    shared: dict[str, tuple[int, Listener]] = {}
    for index, listener in enumerate(lb.listeners):
        path = f"{base}.listeners[{index}]"
        yield from _listener(listener, kind, path)
        group = listener.server_group
        if group is None:
            continue
        if group in shared:
            first_index, first = shared[group]
            if settings_of(normalise_listener(first, kind)) != settings_of(
                normalise_listener(listener, kind)
            ):
                yield _at(
                    listener.location,
                    path,
                    f"on aws-elbv2 the health check, scheduler, connection_drain, "
                    f"sticky_session and proxy_protocol belong to the target group; "
                    f"listeners[{first_index}] uses server group {group} with other "
                    f"values: make them the same",
                )
        else:
            shared[group] = (index, listener)


def _groups(lb: LoadBalancer, base: str) -> Iterator[str]:
    names: dict[str, str] = {}
    for group in lb.server_groups:
        path = f"{base}.server_groups.{group.name}"
        aws_name = target_group_name(lb.name, group.name)
        if aws_name in names:
            yield _at(
                group.location,
                path,
                f"its AWS name {aws_name} is also server group {names[aws_name]}'s;"
                " rename one",
            )
        names[aws_name] = group.name
        if group.membership == Membership.DISCOVERED:
            yield _at(
                group.location,
                f"{path}.membership",
                "discovered groups are not supported on aws-elbv2 yet; use "
                "external with slbsync register, or list the servers",
            )
        kinds = {
            "ip" if s.type == ServerType.IP or not s.id else "instance"
            for s in group.servers
        }
        if len(kinds) > 1:
            yield _at(
                group.location,
                f"{path}.servers",
                "an aws-elbv2 target group holds either instances (id: i-...) or "
                "IP addresses (address:), not both",
            )
        for index, server in enumerate(group.servers):
            spot = f"{path}.servers[{index}]"
            if server.weight != 100:
                yield _at(
                    server.location,
                    f"{spot}.weight",
                    "aws-elbv2 has no per-target weight; leave weight out (to "
                    "drain a server, use slbsync deregister or remove it)",
                )
            if server.type not in (ServerType.ECS, ServerType.IP):
                yield _at(
                    server.location,
                    f"{spot}.type",
                    f"{server.type} servers are Alibaba's; on aws-elbv2 use an "
                    "instance id (id: i-...) or an IP address (address:)",
                )
            if server.description:
                yield _at(
                    server.location,
                    f"{spot}.description",
                    "aws-elbv2 targets carry no description; remove it",
                )


def _listener(listener: Listener, kind: str, path: str) -> Iterator[str]:
    spot = listener.location
    allowed = PROTOCOLS_BY_TYPE[kind]
    if listener.protocol not in allowed:
        names = " and ".join(str(p) for p in allowed)
        yield _at(
            spot,
            f"{path}.protocol",
            f"{_a(kind)} load balancer takes {names} listeners, not "
            f"{listener.protocol}; set type or split the load balancer",
        )
    yield from _scheduler(listener, kind, f"{path}.scheduler")
    for name, unset in FOREIGN_LISTENER_FIELDS.items():
        if getattr(listener, name) != unset:
            hint = HINTS.get(name, "remove it")
            yield _at(
                spot,
                f"{path}.{name}",
                f"aws-elbv2 listeners have no {name}; {hint}",
            )
    if listener.rules and kind == NETWORK:
        yield _at(
            spot,
            f"{path}.rules",
            "a network load balancer forwards by port only and has no forwarding "
            "rules; set type: application on the load balancer or remove rules",
        )
    elif listener.rules:
        yield from _rules(listener.rules, f"{path}.rules")
    if listener.certificate and not listener.certificate.startswith(ARN_PREFIX):
        yield _at(
            spot,
            f"{path}.certificate",
            "aws-elbv2 takes a certificate's ARN (arn:aws:acm:...), not a name",
        )
    if listener.server_group is None and listener.redirect_to_port is None:
        yield _at(spot, f"{path}.server_group", "a listener needs a server group")
    if kind == NETWORK and listener.sticky_session is not None:
        yield _at(spot, f"{path}.sticky_session", "only application load balancers")
    if listener.server_group is not None:  # a redirect checks nothing
        yield from _health_check(listener.health_check, f"{path}.health_check", spot)


def _rules(rules: Sequence[ForwardingRule], path: str) -> Iterator[str]:
    for index, rule in enumerate(rules):
        spot = f"{path}[{index}]"
        if rule.url is not None and not AWS_PATH.fullmatch(rule.url):
            yield _at(
                rule.location,
                f"{spot}.url",
                f'"{rule.url}" is not a path prefix aws-elbv2 can match: start it '
                f"with /, at most {MAX_PATTERN - 1} characters, no * or ? (AWS "
                "wildcards) and no spaces",
            )
        if rule.domain is not None and not (
            AWS_HOST.fullmatch(rule.domain) and len(rule.domain) <= MAX_PATTERN
        ):
            yield _at(
                rule.location,
                f"{spot}.domain",
                f'"{rule.domain}" is not a host name aws-elbv2 can match (letters, '
                'digits, "-" and "."; a leading "*." is allowed)',
            )
        for earlier_index, earlier in enumerate(rules[:index]):
            if hides(earlier, rule):
                yield _at(
                    rule.location,
                    spot,
                    f"rules[{earlier_index}] ({earlier.name}) comes first and takes "
                    f"requests that {rule.name}, being more specific, gets on the "
                    f"other targets; AWS takes rules in the spec's order: put "
                    f"{rule.name} before {earlier.name}",
                )
                break


def _scheduler(listener: Listener, kind: str, path: str) -> Iterator[str]:
    scheduler = str(listener.scheduler)
    if kind == APPLICATION and scheduler not in ALB_ALGORITHM:
        yield _at(
            listener.location,
            path,
            f'"{scheduler}" has no equivalent on an application load balancer; '
            "use round_robin, weighted_round_robin (both AWS round_robin) or "
            "least_connections (least outstanding requests)",
        )
    if listener.protocol == Protocol.TLS and scheduler == Scheduler.SOURCE_HASH.value:
        yield _at(
            listener.location,
            path,
            "AWS has no stickiness on tls listeners, so source_hash has no "
            f"equivalent there; use {Scheduler.WEIGHTED_ROUND_ROBIN.value} (the "
            "default: flow hash)",
        )
    if kind == NETWORK and scheduler not in NLB_SCHEDULERS:
        yield _at(
            listener.location,
            path,
            f'"{scheduler}" has no equivalent on a network load balancer, which '
            f"spreads connections by flow hash; use "
            f"{Scheduler.WEIGHTED_ROUND_ROBIN.value} (the default: flow hash) or "
            f"{Scheduler.SOURCE_HASH.value} (stickiness by source IP)",
        )


def _health_check(
    check: HealthCheck, path: str, location: Location | None
) -> Iterator[str]:
    if not check.enabled:
        yield _at(
            location,
            f"{path}.enabled",
            "aws-elbv2 always checks instance and IP targets; remove enabled: false",
        )
        return
    for name, low, high in HEALTH_RANGES:
        value = getattr(check, name)
        if not low <= value <= high:
            key = name.replace("_threshold", "")
            yield _at(
                location,
                f"{path}.{key}",
                f"{value} is outside aws-elbv2's range {low} to {high}; set it "
                "within (the spec's defaults are Alibaba's)",
            )
    if check.timeout >= check.interval:
        yield _at(
            location,
            f"{path}.timeout",
            "aws-elbv2 needs the timeout shorter than the interval",
        )
    if check.domain is not None:
        yield _at(location, f"{path}.domain", "aws-elbv2 checks send no Host choice")
    if check.method not in (None, "get"):
        yield _at(location, f"{path}.method", "aws-elbv2 checks always use GET")
    if check.udp_request or check.udp_expect:
        yield _at(
            location,
            f"{path}.request",
            "aws-elbv2 checks UDP targets over TCP; remove request and expect",
        )
    if check.type == "udp" or check.type == "tcp":
        return
    if check.type != "http":
        yield _at(location, f"{path}.type", f"{check.type} is not an aws-elbv2 check")
