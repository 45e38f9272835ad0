"""Settle a call whose answer was lost: did it take effect?

The apply runner asks before it retries anything whose outcome is unknown
(``has_taken_effect``). Each answer re-reads only the resource the change
touched, with one or two calls, and remembers the ids a create produced so
later changes resolve them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slbsync.diff.changes import Change
from slbsync.errors import TargetError
from slbsync.targets.alibaba_slb.apply import Applier
from slbsync.targets.alibaba_slb.client import is_gone
from slbsync.targets.alibaba_slb.errors import SlbApiError
from slbsync.targets.alibaba_slb.names import owner_tag, tags_of
from slbsync.targets.alibaba_slb.refs import REF

# Listener parameters whose Describe name differs from the Set name.
_DESCRIBE_NAMES = {"HealthCheckSwitch": "HealthCheck"}
_NOT_ATTRIBUTES = {"LoadBalancerId", "ListenerPort", "ListenerProtocol", "VServerGroup"}


class Settler:
    """Answers ``has_taken_effect`` for every action the planner emits."""

    def __init__(self, applier: Applier) -> None:
        self.applier = applier
        self.client = applier.client
        self._checks: dict[str, Callable[[Change, dict[str, Any]], bool]] = {
            "CreateLoadBalancer": self._load_balancer_created,
            "DeleteLoadBalancer": self._load_balancer_gone,
            "CreateVServerGroup": self._group_created,
            "DeleteVServerGroup": self._group_gone,
            "AddVServerGroupBackendServers": self._servers_present,
            "SetVServerGroupAttribute": self._weights_set,
            "RemoveVServerGroupBackendServers": self._servers_absent,
            "StartLoadBalancerListener": self._listener_status("running"),
            "StopLoadBalancerListener": self._listener_status("stopped"),
            "DeleteLoadBalancerListener": self._listener_gone,
            "CreateRules": self._rules_created,
            "DeleteRules": self._rules_gone,
            "SetRule": self._rule_set,
            "CreateAccessControlList": self._acl_created,
            "DeleteAccessControlList": self._acl_gone,
            "AddAccessControlListEntry": self._entries(present=True),
            "RemoveAccessControlListEntry": self._entries(present=False),
            "UploadServerCertificate": self._certificate_uploaded,
            "UploadCACertificate": self._certificate_uploaded,
            "DeleteServerCertificate": self._certificate_gone("certificate"),
            "DeleteCACertificate": self._certificate_gone("ca_certificate"),
            "TagResources": self._tagged,
            "UntagResources": self._untagged,
        }

    def has_taken_effect(self, change: Change) -> bool:
        params = {
            k: self._resolve(v) for k, v in dict(change.get("params", {})).items()
        }
        check = self._checks.get(change.action)
        if check is not None:
            return check(change, params)
        if change.action.startswith("Create") and change.action.endswith("Listener"):
            return self._listener(change, params) is not None
        if change.action.startswith("SetLoadBalancer") and "Listener" in change.action:
            return self._listener_matches(change, params)
        return self._load_balancer_matches(change, params)

    def _resolve(self, value: Any) -> Any:
        """Like the applier, but an unresolvable reference stays None: the
        parent was never made, so neither was this."""
        try:
            return self.applier.resolve(value)
        except SlbApiError:
            raise
        except TargetError:
            # A parent that was never made: neither was this.
            return None

    # -- load balancers ----------------------------------------------------

    def _load_balancer_created(self, change: Change, params: dict[str, Any]) -> bool:
        item = self.applier.find_load_balancer(str(params["LoadBalancerName"]))
        if item is None or owner_tag(tags_of(item)) != self.applier.owner:
            return False
        self.applier.ids.put("lb", "", str(change.get("lb")), item["LoadBalancerId"])
        return True

    def _load_balancer(self, lb_id: str | None) -> dict[str, Any] | None:
        if not lb_id:
            return None
        body = self.client.read(
            "DescribeLoadBalancers",
            {"LoadBalancerId": lb_id, "PageSize": 10, "PageNumber": 1},
        )
        items = (body.get("LoadBalancers") or {}).get("LoadBalancer") or []
        return items[0] if items else None

    def _load_balancer_gone(self, change: Change, params: dict[str, Any]) -> bool:
        return self._load_balancer(params.get("LoadBalancerId")) is None

    def _load_balancer_matches(self, change: Change, params: dict[str, Any]) -> bool:
        lb_id = params.get("LoadBalancerId") or params.get("ResourceId")
        item = self._load_balancer(lb_id)
        if item is None:
            return False
        seen = dict(item)
        seen["NewResourceGroupId"] = item.get("ResourceGroupId")
        sent = {k: v for k, v in params.items() if k not in ("LoadBalancerId",)}
        sent.pop("ResourceId", None)
        sent.pop("ResourceType", None)
        sent.pop("ModificationProtectionReason", None)
        return _matches(sent, seen)

    # -- server groups -----------------------------------------------------

    def _lb_id(self, change: Change) -> str | None:
        lb = str(change.get("lb") or "")
        return self._resolve({REF: "lb", "lb": "", "name": lb})  # type: ignore[no-any-return]

    def _group_created(self, change: Change, params: dict[str, Any]) -> bool:
        lb_id = params.get("LoadBalancerId")
        found = (
            self.applier.find_group(lb_id, str(change.get("group"))) if lb_id else None
        )
        if found:
            self.applier.ids.put(
                "group", str(change.get("lb")), str(change.get("group")), found
            )
        return found is not None

    def _group_gone(self, change: Change, params: dict[str, Any]) -> bool:
        return self._members(params.get("VServerGroupId")) is None

    def _members(
        self, group_id: str | None
    ) -> dict[tuple[str, int], dict[str, Any]] | None:
        """A group's members by (server id, port); None when the group is gone."""
        if not group_id:
            return None
        try:
            body = self.client.read(
                "DescribeVServerGroupAttribute", {"VServerGroupId": group_id}
            )
        except SlbApiError as err:
            if is_gone(err) or "does not exist" in str(err):
                return None
            raise
        items = (body.get("BackendServers") or {}).get("BackendServer") or []
        return {(str(i["ServerId"]), int(i["Port"])): i for i in items}

    def _servers_present(self, change: Change, params: dict[str, Any]) -> bool:
        members = self._members(params.get("VServerGroupId")) or {}
        return all(_server_key(s) in members for s in _servers(params))

    def _servers_absent(self, change: Change, params: dict[str, Any]) -> bool:
        members = self._members(params.get("VServerGroupId")) or {}
        return not any(_server_key(s) in members for s in _servers(params))

    def _weights_set(self, change: Change, params: dict[str, Any]) -> bool:
        members = self._members(params.get("VServerGroupId")) or {}
        for server in _servers(params):
            seen = members.get(_server_key(server))
            if seen is None or int(seen.get("Weight", -1)) != int(server["Weight"]):
                return False
        return True

    # -- listeners -----------------------------------------------------------

    def _listener(
        self, change: Change, params: dict[str, Any]
    ) -> dict[str, Any] | None:
        lb_id = params.get("LoadBalancerId")
        if not lb_id:
            return None
        protocol = str(change.get("protocol") or params.get("ListenerProtocol"))
        body = self.client.read(
            "DescribeLoadBalancerListeners",
            {
                "LoadBalancerId": [lb_id],
                "ListenerProtocol": protocol,
                "ListenerPort": int(params["ListenerPort"]),
            },
        )
        for item in body.get("Listeners") or []:
            if (
                int(item["ListenerPort"]) == int(params["ListenerPort"])
                and str(item["ListenerProtocol"]).lower() == protocol
            ):
                return dict(item)
        return None

    def _listener_status(self, status: str) -> Callable[[Change, dict[str, Any]], bool]:
        def check(change: Change, params: dict[str, Any]) -> bool:
            item = self._listener(change, params)
            if item is None:
                return status == "stopped"  # a listener that is gone is not running
            return str(item.get("Status")) == status

        return check

    def _listener_gone(self, change: Change, params: dict[str, Any]) -> bool:
        return self._listener(change, params) is None

    def _listener_matches(self, change: Change, params: dict[str, Any]) -> bool:
        item = self._listener(change, params)
        if item is None:
            return False
        seen = dict(item)
        for key in (
            "TCPListenerConfig",
            "UDPListenerConfig",
            "HTTPListenerConfig",
            "HTTPSListenerConfig",
        ):
            seen.update(item.get(key) or {})
        sent = {
            _DESCRIBE_NAMES.get(k, k): v
            for k, v in params.items()
            if k not in _NOT_ATTRIBUTES
        }
        return _matches(sent, seen)

    # -- rules -------------------------------------------------------------

    def _rules_here(
        self, change: Change, params: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lb_id = params.get("LoadBalancerId") or self._lb_id(change)
        if not lb_id:
            return []
        protocol, port = str(change.get("listener")).split("/")
        return self.applier.rules_of(lb_id, protocol, int(port))

    def _rules_created(self, change: Change, params: dict[str, Any]) -> bool:
        live = {r.get("RuleName"): r for r in self._rules_here(change, params)}
        wanted = [r["RuleName"] for r in params.get("RuleList") or []]
        if not all(name in live for name in wanted):
            return False
        for name in wanted:
            key = f"{change.get('listener')}/{name}"
            self.applier.ids.put(
                "rule", str(change.get("lb")), key, str(live[name]["RuleId"])
            )
        return True

    def _rules_gone(self, change: Change, params: dict[str, Any]) -> bool:
        ids = {str(r.get("RuleId")) for r in self._rules_here(change, params)}
        return not any(str(i) in ids for i in params.get("RuleIds") or [])

    def _rule_set(self, change: Change, params: dict[str, Any]) -> bool:
        for rule in self._rules_here(change, params):
            if str(rule.get("RuleId")) == str(params.get("RuleId")):
                return str(rule.get("VServerGroupId")) == str(
                    params.get("VServerGroupId")
                )
        return False

    # -- ACLs and certificates -------------------------------------------------

    def _acl_created(self, change: Change, params: dict[str, Any]) -> bool:
        found = self.applier.find_acl(str(params["AclName"]))
        if found:
            self.applier.ids.put("acl", "", str(params["AclName"]), found)
        return found is not None

    def _acl_gone(self, change: Change, params: dict[str, Any]) -> bool:
        return self.applier.find_acl(str(change.get("acl"))) != params.get("AclId")

    def _entries(self, *, present: bool) -> Callable[[Change, dict[str, Any]], bool]:
        def check(change: Change, params: dict[str, Any]) -> bool:
            acl_id = params.get("AclId")
            if not acl_id:
                return False
            live = self._acl_entries(str(acl_id))
            wanted = {e["entry"] for e in params.get("AclEntrys") or []}
            return wanted <= live if present else not (wanted & live)

        return check

    def _acl_entries(self, acl_id: str) -> set[str]:
        entries: set[str] = set()
        for page in range(1, 100):
            body = self.client.read(
                "DescribeAccessControlListAttribute",
                {"AclId": acl_id, "PageSize": 50, "Page": page},
            )
            batch = (body.get("AclEntrys") or {}).get("AclEntry") or []
            entries.update(str(e.get("AclEntryIP")) for e in batch)
            if len(batch) < 50:
                break
        return entries

    def _certificate_uploaded(self, change: Change, params: dict[str, Any]) -> bool:
        kind = "ca_certificate" if change.get("kind") == "ca" else "certificate"
        name = str(change.get("upload_name"))
        found = self.applier.find_certificate(kind, name)
        if found:
            self.applier.ids.put(kind, "", name, found)
        return found is not None

    def _certificate_gone(self, kind: str) -> Callable[[Change, dict[str, Any]], bool]:
        def check(change: Change, params: dict[str, Any]) -> bool:
            live_id = change.live_id
            if kind == "ca_certificate":
                body = self.client.read("DescribeCACertificates", {})
                items = (body.get("CACertificates") or {}).get("CACertificate") or []
                return all(i.get("CACertificateId") != live_id for i in items)
            body = self.client.read("DescribeServerCertificates", {})
            items = (body.get("ServerCertificates") or {}).get(
                "ServerCertificate"
            ) or []
            return all(i.get("ServerCertificateId") != live_id for i in items)

        return check

    # -- tags --------------------------------------------------------------

    def _tags(self, params: dict[str, Any]) -> dict[str, str]:
        body = self.client.read(
            "ListTagResources",
            {
                "ResourceType": params["ResourceType"],
                "ResourceId": params["ResourceId"],
            },
        )
        items = (body.get("TagResources") or {}).get("TagResource") or []
        return {str(i.get("TagKey")): str(i.get("TagValue")) for i in items}

    def _tagged(self, change: Change, params: dict[str, Any]) -> bool:
        tags = self._tags(params)
        return all(tags.get(t["Key"]) == t["Value"] for t in params.get("Tag") or [])

    def _untagged(self, change: Change, params: dict[str, Any]) -> bool:
        tags = self._tags(params)
        return not any(key in tags for key in params.get("TagKey") or [])


def _servers(params: dict[str, Any]) -> list[dict[str, Any]]:
    servers = params.get("BackendServers") or []
    if isinstance(servers, str):
        servers = json.loads(servers)
    return list(servers)


def _server_key(server: dict[str, Any]) -> tuple[str, int]:
    return (str(server["ServerId"]), int(server["Port"]))


def _matches(sent: dict[str, Any], seen: dict[str, Any]) -> bool:
    """Every sent value is what the cloud now reports (compared as text)."""
    return all(_text(seen.get(key)) == _text(value) for key, value in sent.items())


def _text(value: Any) -> str:
    return str(value).lower() if value is not None else ""
