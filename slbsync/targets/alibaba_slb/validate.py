"""What SLB cannot do, found before any call: problems as strings.

Each problem is ``"<file:line:col> <field path>: <what to do>"`` so the
spec validator can print it beside its own. The ranges come from the SLB
API reference (shared/reference/slb-api.md, sections 2 and 3).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator

from slbsync.spec.model import (
    Acl,
    Certificate,
    Listener,
    LoadBalancer,
    Location,
    Protocol,
    ServerGroup,
    ServerType,
    Spec,
    TargetSpec,
)
from slbsync.targets.alibaba_slb.names import certificate_id
from slbsync.targets.alibaba_slb.normalise import (
    HEALTH_CHECK_TYPES,
    SCHEDULERS_BY_PROTOCOL,
    TO_PORTABLE_SCHEDULER,
    native_scheduler,
)
from slbsync.targets.alibaba_slb.options import OPTIONS, is_valid_value
from slbsync.targets.base import OWNER_TAG

NAME = re.compile(r"[A-Za-z][A-Za-z0-9._\-]{0,79}")
ACL_NAME = re.compile(r"[A-Za-z0-9._/\-]{1,80}")
MAX_TAGS = 19  # 20 per resource, one of them the ownership tag
MAX_ACL_ENTRIES = 300
MAX_RULES = 40

# The load balancer settings of some targets only (fields.PER_TARGET_LB_FIELDS)
# that SLB takes; the spec refuses the others on an alibaba-slb target.
LB_SETTINGS = frozenset(
    {
        "address_type",
        "address_ip_version",
        "vswitch_id",
        "vpc_id",
        "instance_charge_type",
        "spec",
        "internet_charge_type",
        "bandwidth",
        "deletion_protection",
        "modification_protection",
        "modification_protection_reason",
        "resource_group_id",
        "master_zone_id",
        "slave_zone_id",
        "tags",
    }
)
INSTEAD_OF = {
    "type": "an SLB instance serves every protocol, layer 4 and 7: remove type",
    "subnets": "the alibaba-slb target places a load balancer by vswitch_id "
    "(and vpc_id): use those",
    "security_groups": "SLB filters clients with ACLs: give the listeners an acl",
}

# (field, low, high) of listener settings with a range on SLB.
LISTENER_RANGES = (
    ("persistence_timeout", 0, 3600),
    ("established_timeout", 10, 900),
    ("connection_drain", 10, 900),
    ("idle_timeout", 1, 60),
    ("request_timeout", 1, 180),
)
HEALTH_CHECK_RANGES = (
    ("interval", 1, 50),
    ("timeout", 1, 300),
    ("healthy_threshold", 2, 10),
    ("unhealthy_threshold", 2, 10),
)


def option_problems(target: TargetSpec) -> list[str]:
    """Unknown or malformed options of an alibaba-slb target."""
    found = []
    base = f"targets.{target.name}"
    for key, value in target.options:
        if key not in OPTIONS:
            close = difflib.get_close_matches(key, OPTIONS, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            known = ", ".join(sorted(OPTIONS))
            message = f'"{key}" is not an alibaba-slb option{hint} (options: {known})'
            found.append(_at(target.location, f"{base}.{key}", message))
        elif not is_valid_value(key, value):
            message = f'"{value}" is not a number of at least {OPTIONS[key]:g}'
            found.append(_at(target.location, f"{base}.{key}", message))
    return found


def problems_in(spec: Spec, target: str) -> list[str]:
    """Every problem SLB would have with the parts of ``spec`` on ``target``."""
    acls = {acl.name for acl in spec.acls_on(target)}
    certs = {cert.name: cert for cert in spec.certificates_on(target)}
    found: list[str] = []
    target_spec = spec.target(target)
    if target_spec is not None:
        found.extend(option_problems(target_spec))
    for lb in spec.load_balancers_on(target):
        found.extend(_load_balancer(lb, acls, certs))
    for acl in spec.acls_on(target):
        found.extend(_acl(acl))
    for cert in spec.certificates_on(target):
        found.extend(_certificate(cert))
    return found


def _at(location: Location | None, path: str, message: str) -> str:
    where = f"{location} " if location else ""
    return f"{where}{path}: {message}"


def _load_balancer(
    lb: LoadBalancer, acls: set[str], certs: dict[str, Certificate]
) -> Iterator[str]:
    base = f"load_balancers.{lb.name}"
    if not NAME.fullmatch(lb.name):
        yield _at(
            lb.location,
            base,
            "SLB names are 1-80 letters, digits, '.', '_' or '-', starting with a letter",  # noqa: E501
        )
    if (
        lb.instance_charge_type == "PayByCLCU"
        and lb.internet_charge_type != "paybytraffic"
    ):
        yield _at(
            lb.location,
            f"{base}.internet_charge_type",
            "a pay-by-CLCU load balancer is billed by traffic; use paybytraffic or instance_charge_type: PayBySpec",  # noqa: E501
        )
    if lb.instance_charge_type == "PayBySpec" and not lb.spec:
        yield _at(
            lb.location,
            f"{base}.spec",
            "a pay-by-spec load balancer needs a spec such as slb.s2.small (pay-by-spec creation has ended; PayByCLCU needs none)",  # noqa: E501
        )
    yield from _tags(lb.tags, lb.location, f"{base}.tags")
    for group in lb.server_groups:
        yield from _group(group, f"{base}.server_groups.{group.name}")
    yield from _bandwidth(lb, base)
    groups = {group.name for group in lb.server_groups}
    keys = {listener.key for listener in lb.listeners}
    for index, listener in enumerate(lb.listeners):
        path = f"{base}.listeners[{index}]"
        yield from _listener(listener, path, groups, acls, certs, keys)


def _bandwidth(lb: LoadBalancer, base: str) -> Iterator[str]:
    """Pay-by-bandwidth instances share their bandwidth out to listeners."""
    if lb.internet_charge_type != "paybybandwidth":
        return
    if lb.bandwidth is None:
        yield _at(
            lb.location,
            f"{base}.bandwidth",
            "a paybybandwidth load balancer needs a bandwidth (1-5120 Mbit/s)",
        )
        return
    for index, listener in enumerate(lb.listeners):
        if listener.bandwidth < 1:
            yield _at(
                listener.location,
                f"{base}.listeners[{index}].bandwidth",
                f"on a paybybandwidth load balancer each listener needs its share of the {lb.bandwidth} Mbit/s (1 or more)",  # noqa: E501
            )
    total = sum(max(0, listener.bandwidth) for listener in lb.listeners)
    if total > lb.bandwidth:
        yield _at(
            lb.location,
            f"{base}.bandwidth",
            f"the listeners ask for {total} Mbit/s together, more than the load balancer's {lb.bandwidth}",  # noqa: E501
        )


def _tags(
    tags: tuple[tuple[str, str], ...], location: Location | None, path: str
) -> Iterator[str]:
    if len(tags) > MAX_TAGS:
        yield _at(
            location,
            path,
            f"SLB keeps at most {MAX_TAGS} tags besides slbsync's own; drop {len(tags) - MAX_TAGS}",  # noqa: E501
        )
    for key, value in tags:
        if key == OWNER_TAG:
            yield _at(
                location,
                f"{path}.{key}",
                f"{OWNER_TAG} is slbsync's ownership tag; set the target's owner option instead",  # noqa: E501
            )
        elif (
            key.startswith(("aliyun", "acs:"))
            or "http://" in key + value
            or "https://" in key + value
        ):
            yield _at(
                location,
                f"{path}.{key}",
                "tags may not start with aliyun or acs: nor contain http:// or https://",
            )


def _group(group: ServerGroup, path: str) -> Iterator[str]:
    yield from _tags(group.tags, group.location, f"{path}.tags")
    for index, server in enumerate(group.servers):
        where = server.location or group.location
        spath = f"{path}.servers[{index}]"
        if not 0 <= server.weight <= 100:
            yield _at(
                where,
                f"{spath}.weight",
                f"{server.weight} is out of range; SLB weights are 0 to 100",
            )
        if server.type == ServerType.IP or not server.id:
            yield _at(
                where,
                spath,
                # SLB's BackendServers Type is ecs, eni or eci only (reference
                # section 2.3): a bare address has nothing to attach.
                "SLB server groups take no IP-only servers: give the ECS instance id (id: i-...), or type: eni or type: eci with the interface's id (eni-..., eci-...) and its private IP as address; a server known only by its IP belongs on an nginx or haproxy target",  # noqa: E501
            )
        elif server.type in (ServerType.ENI, ServerType.ECI) and not server.address:
            yield _at(
                where,
                f"{spath}.address",
                f"an {server.type} server needs its private IP as address",
            )


def _listener(
    listener: Listener,
    path: str,
    groups: set[str],
    acls: set[str],
    certs: dict[str, Certificate],
    https_ports: set[tuple[str, int]],
) -> Iterator[str]:
    where = listener.location
    protocol = Protocol(listener.protocol)
    native = native_scheduler(str(listener.scheduler))
    allowed = SCHEDULERS_BY_PROTOCOL[protocol]
    if native not in allowed:
        names = ", ".join(TO_PORTABLE_SCHEDULER.get(s, s) for s in allowed)
        yield _at(
            where,
            f"{path}.scheduler",
            f'"{listener.scheduler}" is not available on {protocol} listeners on SLB; use one of {names}',  # noqa: E501
        )
    check = listener.health_check
    if check.enabled and check.type not in HEALTH_CHECK_TYPES[protocol]:
        kinds = " or ".join(HEALTH_CHECK_TYPES[protocol])
        yield _at(
            where,
            f"{path}.health_check.type",
            f'"{check.type}" health checks do not exist on {protocol} listeners; use {kinds}',  # noqa: E501
        )
    for name, low, high in HEALTH_CHECK_RANGES:
        value = getattr(check, name)
        if check.enabled and not low <= value <= high:
            yield _at(
                where,
                f"{path}.health_check.{name}",
                f"{value} is out of range; SLB takes {low} to {high}",
            )
    for name, low, high in LISTENER_RANGES:
        value = getattr(listener, name)
        if value is not None and not low <= value <= high:
            yield _at(
                where,
                f"{path}.{name}",
                f"{value} is out of range; SLB takes {low} to {high}",
            )
    if listener.server_group and listener.server_group not in groups:
        yield _at(
            where,
            f"{path}.server_group",
            f'"{listener.server_group}" is not a server group of this load balancer',
        )
    if (
        listener.server_group is None
        and listener.backend_port is None
        and listener.redirect_to_port is None
    ):
        yield _at(
            where,
            path,
            "a listener needs a server_group (or a backend_port, or redirect_to_port on HTTP)",  # noqa: E501
        )
    if listener.acl and listener.acl.acl not in acls:
        yield _at(
            where,
            f"{path}.acl",
            f'"{listener.acl.acl}" is not an ACL on this target; define it under acls',
        )
    if listener.redirect_to_port is not None and (
        listener.protocol != Protocol.HTTP
        or ("https", listener.redirect_to_port) not in https_ports
    ):
        yield _at(
            where,
            f"{path}.redirect_to_port",
            "only an HTTP listener redirects, and to the port of an HTTPS listener of the same load balancer",  # noqa: E501
        )
    yield from _https(listener, path, certs)
    yield from _rules(listener, path, groups)


def _https(
    listener: Listener, path: str, certs: dict[str, Certificate]
) -> Iterator[str]:
    where = listener.location
    if listener.protocol != Protocol.HTTPS:
        return
    if not listener.certificate:
        yield _at(
            where, f"{path}.certificate", "an HTTPS listener needs a server certificate"
        )
    for field_name, kind in (("certificate", "server"), ("ca_certificate", "ca")):
        name = getattr(listener, field_name)
        if certificate_id(name):
            continue  # an upload by id (id:...): the cloud checks it exists
        if name and (name not in certs or certs[name].kind != kind):
            yield _at(
                where,
                f"{path}.{field_name}",
                f'"{name}" is not a {kind} certificate on this target; define it under certificates',  # noqa: E501
            )


def _rules(listener: Listener, path: str, groups: set[str]) -> Iterator[str]:
    where = listener.location
    if listener.rules and listener.protocol not in (Protocol.HTTP, Protocol.HTTPS):
        yield _at(
            where,
            f"{path}.rules",
            "forwarding rules exist on HTTP and HTTPS listeners only",
        )
    if len(listener.rules) > MAX_RULES:
        yield _at(where, f"{path}.rules", f"SLB allows {MAX_RULES} rules per listener")
    for index, rule in enumerate(listener.rules):
        rpath = f"{path}.rules[{index}]"
        if not 1 <= len(rule.name) <= 40:
            yield _at(
                rule.location or where,
                f"{rpath}.name",
                "rule names are 1 to 40 characters",
            )
        if not rule.domain and not rule.url:
            yield _at(
                rule.location or where, rpath, "a rule needs a domain, a url or both"
            )
        if rule.server_group not in groups:
            yield _at(
                rule.location or where,
                f"{rpath}.server_group",
                f'"{rule.server_group}" is not a server group of this load balancer',
            )


def _acl(acl: Acl) -> Iterator[str]:
    path = f"acls.{acl.name}"
    if not ACL_NAME.fullmatch(acl.name):
        yield _at(
            acl.location,
            path,
            "ACL names are 1-80 letters, digits, '.', '_', '/' or '-'",
        )
    if len(acl.entries) > MAX_ACL_ENTRIES:
        yield _at(
            acl.location,
            f"{path}.entries",
            f"SLB keeps at most {MAX_ACL_ENTRIES} entries per ACL",
        )
    yield from _tags(acl.tags, acl.location, f"{path}.tags")


def _certificate(cert: Certificate) -> Iterator[str]:
    path = f"certificates.{cert.name}"
    if not NAME.fullmatch(cert.name) or len(cert.name) > 67:
        yield _at(
            cert.location,
            path,
            "certificate names are 1-67 letters, digits, '.', '_' or '-', starting with a letter (slbsync adds a 13-character version suffix)",  # noqa: E501
        )
    if cert.kind == "server" and not cert.private_key_file:
        yield _at(
            cert.location,
            f"{path}.private_key_file",
            "a server certificate needs its private key file",
        )
