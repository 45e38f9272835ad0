"""Checks across a whole spec, then each target's own.

``build.py`` checks each object by itself. What is left needs the whole
spec: references (a listener's server group, ACL and certificates, every
object's target), names unique across a listener's rules, native scheduler
values only where the target has them. A target whose package does not
import is a problem of its own: its checks cannot run. Then, if the spec
itself is sound, each target says what it cannot do (``Target.validate``).
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

from slbsync.spec import fields as f
from slbsync.spec.model import Acl, Certificate, Listener, LoadBalancer, Spec
from slbsync.spec.problems import SpecProblem, format_path, parse_target_problem
from slbsync.spec.read import Context, listing
from slbsync.spec.target_terms import (
    choices_of,
    declared_by,
    types_taking_protocol,
    values_of,
)

log = logging.getLogger(__name__)


def check_references(spec: Spec, ctx: Context) -> None:
    """Report every reference to something the spec does not define."""
    targets = {t.name: t for t in spec.targets}
    items: list[LoadBalancer | Acl | Certificate] = [
        *spec.load_balancers,
        *spec.acls,
        *spec.certificates,
    ]
    for item in items:
        if item.target not in targets:
            path = (*ctx.paths[id(item)], "target")
            ctx.at_value(path, _missing("target", item.target, targets))
    for lb in spec.load_balancers:
        target = targets.get(lb.target)
        for listener in lb.listeners:
            _check_listener(spec, lb, listener, target.type if target else None, ctx)


def _check_listener(
    spec: Spec, lb: LoadBalancer, listener: Listener, kind: str | None, ctx: Context
) -> None:
    path = ctx.paths[id(listener)]
    groups = {g.name: g for g in lb.server_groups}
    if listener.server_group is not None and listener.server_group not in groups:
        message = _missing("server group", listener.server_group, groups, _LB)
        ctx.at_value((*path, "server_group"), message)
    if listener.acl is not None:
        acls = {a.name: a for a in spec.acls}
        acl = acls.get(listener.acl.acl)
        spot = (*path, "acl")
        if acl is None:
            ctx.at_value(spot, _missing("acl", listener.acl.acl, acls))
        elif acl.target != lb.target:
            ctx.at_value(spot, _elsewhere("acl", acl.name, acl.target, lb.target))
    certificates = {c.name: c for c in spec.certificates}
    native = declared_by(kind).native_certificate_prefix
    for key, wanted in (("certificate", "server"), ("ca_certificate", "ca")):
        name = getattr(listener, key)
        if native and name is not None and name.startswith(native):
            continue  # the cloud's own reference; the target checks it
        if name is not None:
            _check_certificate(certificates, name, wanted, lb, (*path, key), ctx)
    _check_rules(listener, groups, path, ctx)
    if kind is not None:
        _check_protocol(listener, kind, (*path, "protocol"), ctx)
    _check_scheduler(listener, kind, (*path, "scheduler"), ctx)


def _check_protocol(
    listener: Listener, kind: str, path: tuple[Any, ...], ctx: Context
) -> None:
    protocol = str(listener.protocol)
    if protocol in f.PORTABLE_PROTOCOLS:
        return
    if protocol not in declared_by(kind).extra_protocols:
        only_on = types_taking_protocol(protocol)
        ctx.at_value(
            path,
            f'"{protocol}" listeners are for {listing(only_on)} targets; '
            f"on {kind} use {listing(f.PORTABLE_PROTOCOLS)}",
        )


def _check_certificate(
    certificates: dict[str, Certificate],
    name: str,
    wanted: str,
    lb: LoadBalancer,
    path: tuple[Any, ...],
    ctx: Context,
) -> None:
    certificate = certificates.get(name)
    if certificate is None:
        ctx.at_value(path, _missing("certificate", name, certificates))
    elif certificate.kind != wanted:
        ctx.at_value(
            path,
            f'certificate "{name}" is a {certificate.kind} certificate; '
            f"{path[-1]} needs a {wanted} one",
        )
    elif certificate.target != lb.target:
        ctx.at_value(
            path, _elsewhere("certificate", name, certificate.target, lb.target)
        )


def _check_rules(
    listener: Listener, groups: dict[str, Any], path: tuple[Any, ...], ctx: Context
) -> None:
    names: set[str] = set()
    matches: set[tuple[str | None, str | None]] = set()
    for rule in listener.rules:
        spot = ctx.paths[id(rule)]
        if rule.server_group not in groups:
            message = _missing("server group", rule.server_group, groups, _LB)
            ctx.at_value((*spot, "server_group"), message)
        if rule.name in names:
            ctx.at_value(
                (*spot, "name"), f'another rule of this listener is "{rule.name}"'
            )
        match = (rule.domain, rule.url)
        if match in matches and match != (None, None):
            ctx.at_value(
                spot, "another rule of this listener matches the same domain and url"
            )
        names.add(rule.name)
        matches.add(match)


def _check_scheduler(
    listener: Listener, kind: str | None, path: tuple[Any, ...], ctx: Context
) -> None:
    scheduler = str(listener.scheduler)
    if scheduler in f.PORTABLE_SCHEDULERS:
        return
    own = declared_by(kind).native_schedulers
    if scheduler in own:
        protocols = own[scheduler]
        if protocols and str(listener.protocol) not in protocols:
            ctx.at_value(
                path,
                f"{scheduler} works on {' and '.join(protocols)} listeners only; "
                f"this listener is {listener.protocol}",
            )
        return
    # Past here the value is wrong on this target: naming the right ones may
    # ask every target package.
    unknown = _not_a_scheduler(scheduler)
    if unknown:
        ctx.at_value(path, unknown)
        return
    if kind is None:
        return  # the missing target is reported; its schedulers are unknown
    ctx.at_value(
        path,
        f'"{scheduler}" is native to another target; on {kind} use '
        f"{listing(f.PORTABLE_SCHEDULERS + tuple(own))}",
    )


def _not_a_scheduler(scheduler: str) -> str:
    """Why ``scheduler`` is no target's scheduler; "" when one has it."""
    rule = f.LISTENER.field("scheduler")
    assert rule is not None
    known = {value.lower(): value for value in values_of(rule)}
    if scheduler in known.values():
        return ""
    close = known.get(scheduler.lower())
    hint = f'did you mean "{close}"?' if close else f"use {choices_of(rule)}"
    return f'"{scheduler}" is not a scheduler; {hint}'


_LB = "this load balancer"


def _missing(
    noun: str, name: str, known: dict[str, Any], where: str = "the spec"
) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f'there is no {noun} "{name}"; did you mean "{close[0]}"?'
    if known:
        return f'there is no {noun} "{name}"; {where} has {listing(sorted(known))}'
    return f'there is no {noun} "{name}" in {where}'


def _elsewhere(noun: str, name: str, where: str, wanted: str) -> str:
    return f'{noun} "{name}" is on target {where}; this load balancer is on {wanted}'


def check_target_packages(spec: Spec) -> list[SpecProblem]:
    """A problem for each target whose package does not import.

    Its own checks cannot run then, so the spec must not pass as valid; plan
    and apply would fail on the same import.
    """
    from slbsync.errors import SpecError
    from slbsync.targets.registry import target_class

    problems: list[SpecProblem] = []
    for target_spec in spec.targets:
        try:
            target_class(target_spec.type)
        except SpecError:
            continue  # reported by the field check, with the known types
        except (ImportError, AttributeError) as err:
            log.debug(
                "validate: target=%s import failed", target_spec.name, exc_info=True
            )
            path = format_path(("targets", target_spec.name))
            problems.append(
                SpecProblem(
                    target_spec.location, path, _unimportable(target_spec.type, err)
                )
            )
    return problems


def _unimportable(kind: str, err: ImportError | AttributeError) -> str:
    missing = getattr(err, "name", None) if isinstance(err, ImportError) else None
    way_out = (
        f"install the missing module {missing} or reinstall slbsync"
        if missing and not missing.startswith("slbsync")
        else "reinstall slbsync"
    )
    return (
        f"the {kind} target's code does not load ({err}), so its checks cannot "
        f"run and this spec is not validated; {way_out} "
        "(pip install --force-reinstall slbsync)"
    )


def check_targets(spec: Spec) -> list[SpecProblem]:
    """Ask each target what it cannot do (after check_target_packages passed)."""
    from slbsync.targets.registry import target_class

    problems: list[SpecProblem] = []
    for target_spec in spec.targets:
        cls = target_class(target_spec.type)
        for text in cls(target_spec).validate(spec):
            problems.append(parse_target_problem(text))
    return problems
