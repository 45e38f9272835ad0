"""Forwarding rules: domain and/or URL matches on HTTP and HTTPS listeners.

A rule belongs to one listener (load balancer, protocol, port) and sends
what it matches to a VServer group of the same load balancer. With
``listener_sync`` on it follows the listener's scheduler, sticky session
and health check; off, its own ``overrides`` apply.

This module depends on no other resource module, so the listeners and
server groups modules can import it without a cycle: the listeners module
deletes a listener's rules with ``delete_rules_of_listener`` and the server
groups module refuses to delete a group while ``rules_using_group`` finds
one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slbsync.emulator.errors import ApiError, MissingParameter
from slbsync.emulator.state.store import Store

RULES_PER_LISTENER = 40
RULES_PER_CALL = 10


class RuleNotFound(ApiError):
    code = "InvalidRuleId.NotFound"
    status = 404

    def __init__(self) -> None:
        super().__init__(message="Rule does not exist.")


@dataclass
class RuleRecord:
    rule_id: str
    rule_name: str
    load_balancer_id: str
    listener_port: int
    listener_protocol: str
    domain: str
    url: str
    vserver_group_id: str
    create_time: float
    sequence: int  # creation order, for stable listings
    listener_sync: str = "on"
    # Wire name -> value for the settings a rule overrides when listener_sync
    # is off (Scheduler, StickySession, HealthCheck, HealthCheckURI, ...).
    overrides: dict[str, Any] = field(default_factory=dict)


def rules(store: Store) -> dict[str, RuleRecord]:
    return store.table("rules", RuleRecord)


def get_rule(store: Store, rule_id: str | None) -> RuleRecord:
    """The rule ``rule_id``, or the cloud's refusal."""
    if not rule_id:
        raise MissingParameter("RuleId")
    record = rules(store).get(rule_id)
    if record is None:
        raise RuleNotFound()
    return record


def new_rule(store: Store, **fields: Any) -> RuleRecord:
    """A rule with a fresh ``rule-`` id, added to the table."""
    rule_id = store.new_id("rule", "rule-", 20)
    record = RuleRecord(rule_id=rule_id, sequence=store.counters["rule"], **fields)
    rules(store)[rule_id] = record
    return record


def _ordered(found: list[RuleRecord]) -> list[RuleRecord]:
    return sorted(found, key=lambda rule: rule.sequence)


def rules_of_listener(
    store: Store, lb_id: str, protocol: str, port: int
) -> list[RuleRecord]:
    """The listener's rules, oldest first."""
    return _ordered(
        [
            rule
            for rule in rules(store).values()
            if rule.load_balancer_id == lb_id
            and rule.listener_protocol == protocol
            and rule.listener_port == int(port)
        ]
    )


def rules_of_load_balancer(store: Store, lb_id: str) -> list[RuleRecord]:
    return _ordered(
        [rule for rule in rules(store).values() if rule.load_balancer_id == lb_id]
    )


def rules_using_group(store: Store, group_id: str) -> list[RuleRecord]:
    """The rules that forward to VServer group ``group_id``."""
    return _ordered(
        [rule for rule in rules(store).values() if rule.vserver_group_id == group_id]
    )


def delete_rules_of_listener(
    store: Store, lb_id: str, protocol: str, port: int
) -> None:
    """Drop a listener's rules, as deleting the listener does on the cloud."""
    table = rules(store)
    for rule in rules_of_listener(store, lb_id, protocol, port):
        del table[rule.rule_id]


def delete_rules_of_load_balancer(store: Store, lb_id: str) -> None:
    """Drop every rule of a load balancer; run inside DeleteLoadBalancer."""
    table = rules(store)
    for rule in rules_of_load_balancer(store, lb_id):
        del table[rule.rule_id]
