"""Carry out one change with one SDK call, resolving ids by name.

Ids of resources created earlier in the same run are remembered from the
calls' own answers; a reference the run has not seen (a saved plan applied
by a new process) is looked up by name with one read.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

from slbsync.diff.changes import Change
from slbsync.errors import TargetError
from slbsync.targets.alibaba_slb.client import SlbClient
from slbsync.targets.alibaba_slb.errors import SlbApiError
from slbsync.targets.alibaba_slb.names import (
    KEPT_UPLOAD_TAG,
    certificate_spec_name,
    owner_tag,
    tags_of,
)
from slbsync.targets.alibaba_slb.refs import REF, is_ref
from slbsync.targets.base import ChangeOutcome, LiveState

log = logging.getLogger(__name__)

# Parameters the API takes as a JSON document inside one string.
UPLOAD_IN_USE = "CertificateAndPrivateKeyIsRefered"
"""SLB's refusal to delete a certificate a listener still uses."""

JSON_PARAMS = frozenset({"BackendServers", "RuleList", "RuleIds", "AclEntrys"})


class IdBook:
    """Live ids by (kind, load balancer, name), shared by every change of a run."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()

    def get(self, kind: str, lb: str, name: str) -> str | None:
        with self._lock:
            return self._ids.get((kind, lb, name))

    def put(self, kind: str, lb: str, name: str, live_id: str) -> None:
        with self._lock:
            self._ids[(kind, lb, name)] = live_id

    def learn(self, live: LiveState) -> None:
        """Remember every id a read found."""
        for lb in live.load_balancers:
            if lb.id:
                self.put("lb", "", lb.spec.name, lb.id)
            for key, value in lb.ids:
                kind, _, name = key.partition(":")
                if kind in ("group", "rule"):
                    self.put(kind, lb.spec.name, name, value)
        for acl in live.acls:
            self.put("acl", "", acl.acl.name, acl.id)
        for cert in live.certificates:
            kind = (
                "certificate" if cert.certificate.kind == "server" else "ca_certificate"
            )
            self.put(kind, "", cert.certificate.name, cert.id)


class Applier:
    """Makes the call a change names; remembers what it created."""

    def __init__(self, client: SlbClient, target: str, owner: str) -> None:
        self.client = client
        self.target = target
        self.owner = owner
        self.ids = IdBook()
        self.limited = True  # False when the runner limits writes itself

    def apply(self, change: Change) -> ChangeOutcome:
        params = self.params_for(change)
        log.debug("apply: target=%s change=%s", self.target, change.summary)
        try:
            body = self.client.call(change.action, params, limited=self.limited)
        except SlbApiError as err:
            if change.get("old_upload") and err.code == UPLOAD_IN_USE:
                return self._keep_upload(change)
            raise
        created = self._remember(change, body)
        return ChangeOutcome(change=change, created_id=created)

    def _keep_upload(self, change: Change) -> ChangeOutcome:
        # A listener slbsync does not read (on a load balancer it does not
        # own) still uses this old upload. Failing every apply on it would
        # help nobody: mark it kept, so later plans leave it alone.
        upload_id = str(change.live_id)
        log.warning(
            "apply: target=%s certificate=%s kept: a listener outside the spec uses it",
            self.target,
            upload_id,
        )
        self.client.call(
            "TagResources",
            {
                "ResourceType": "certificate",
                "ResourceId": [upload_id],
                "Tag": [{"Key": KEPT_UPLOAD_TAG, "Value": "in-use"}],
            },
            limited=self.limited,
        )
        note = f"kept {upload_id}: a listener slbsync does not manage uses it; tagged {KEPT_UPLOAD_TAG}, delete it by hand once unused"  # noqa: E501
        return ChangeOutcome(change=change, note=note)

    def params_for(self, change: Change) -> dict[str, Any]:
        """The call's parameters: references resolved, JSON documents encoded,
        certificate files read (only now, and never logged)."""
        params = {k: self.resolve(v) for k, v in dict(change.get("params", {})).items()}
        for key in JSON_PARAMS & params.keys():
            params[key] = json.dumps(params[key])
        if change.action in ("UploadServerCertificate", "UploadCACertificate"):
            params.update(_certificate_files(change))
        return params

    def resolve(self, value: Any) -> Any:
        if is_ref(value):
            return self._resolve_ref(value)
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def _resolve_ref(self, ref: dict[str, str]) -> str:
        kind, lb, name = ref[REF], ref.get("lb", ""), ref["name"]
        found = self.ids.get(kind, lb, name) or self._look_up(kind, lb, name)
        if not found:
            raise TargetError(
                f"target {self.target}: {kind} {name} was not found; an earlier change that creates it may have failed, run slbsync plan again"  # noqa: E501
            )
        self.ids.put(kind, lb, name, found)
        return found

    # -- lookups by name --------------------------------------------------------

    def _look_up(self, kind: str, lb: str, name: str) -> str | None:
        if kind == "lb":
            item = self.find_load_balancer(name)
            return item["LoadBalancerId"] if item else None
        if kind == "group":
            return self.find_group(
                self._resolve_ref({REF: "lb", "lb": "", "name": lb}), name
            )
        if kind == "rule":
            return self._find_rule(lb, name)
        if kind == "acl":
            return self.find_acl(name)
        return self.find_certificate(kind, name)

    def find_load_balancer(self, name: str) -> dict[str, Any] | None:
        """The owned load balancer of that name, else the only one of it."""
        body = self.client.read(
            "DescribeLoadBalancers",
            {"LoadBalancerName": name, "PageSize": 100, "PageNumber": 1},
        )
        items = [
            item
            for item in (body.get("LoadBalancers") or {}).get("LoadBalancer") or []
            if item.get("LoadBalancerName") == name
        ]
        owned = [i for i in items if owner_tag(tags_of(i)) == self.owner]
        found: dict[str, Any] | None = owned[0] if owned else None
        if found is None and len(items) == 1:
            found = items[0]
        return found

    def find_group(self, lb_id: str, name: str) -> str | None:
        body = self.client.read("DescribeVServerGroups", {"LoadBalancerId": lb_id})
        for item in (body.get("VServerGroups") or {}).get("VServerGroup") or []:
            if item.get("VServerGroupName") == name:
                return str(item["VServerGroupId"])
        return None

    def _find_rule(self, lb: str, label: str) -> str | None:
        protocol, port, name = label.split("/", 2)
        lb_id = self._resolve_ref({REF: "lb", "lb": "", "name": lb})
        for item in self.rules_of(lb_id, protocol, int(port)):
            if item.get("RuleName") == name:
                return str(item["RuleId"])
        return None

    def rules_of(self, lb_id: str, protocol: str, port: int) -> list[dict[str, Any]]:
        body = self.client.read(
            "DescribeRules",
            {
                "LoadBalancerId": lb_id,
                "ListenerPort": port,
                "ListenerProtocol": protocol,
            },
        )
        return list((body.get("Rules") or {}).get("Rule") or [])

    def find_acl(self, name: str) -> str | None:
        body = self.client.read(
            "DescribeAccessControlLists", {"AclName": name, "PageSize": 50}
        )
        for item in (body.get("Acls") or {}).get("Acl") or []:
            if item.get("AclName") == name:
                return str(item["AclId"])
        return None

    def find_certificate(self, kind: str, name: str) -> str | None:
        """By upload name, or by the spec name it stands for."""
        if kind == "ca_certificate":
            action, container, prefix = (
                "DescribeCACertificates",
                "CACertificates",
                "CACertificate",
            )
        else:
            action, container = "DescribeServerCertificates", "ServerCertificates"
            prefix = "ServerCertificate"
        body = self.client.read(action, {})
        items = (body.get(container) or {}).get(prefix) or []
        exact = [i for i in items if i.get(f"{prefix}Name") == name]
        loose = [
            i
            for i in items
            if certificate_spec_name(str(i.get(f"{prefix}Name"))) == name
        ]
        found = exact or sorted(loose, key=lambda i: int(i.get("CreateTimeStamp") or 0))
        return str(found[-1][f"{prefix}Id"]) if found else None

    # -- what a call created -------------------------------------------------

    def _remember(self, change: Change, body: dict[str, Any]) -> str | None:
        lb = str(change.get("lb") or "")
        action = change.action
        if action == "CreateLoadBalancer":
            created = body.get("LoadBalancerId")
            if created:
                self.ids.put("lb", "", lb, str(created))
            return str(created) if created else None
        if action == "CreateVServerGroup":
            created = body.get("VServerGroupId")
            if created:
                self.ids.put("group", lb, str(change.get("group")), str(created))
            return str(created) if created else None
        if action == "CreateAccessControlList":
            created = body.get("AclId")
            if created:
                self.ids.put("acl", "", str(change.get("acl")), str(created))
            return str(created) if created else None
        if action in ("UploadServerCertificate", "UploadCACertificate"):
            return self._remember_certificate(change, body)
        if action == "CreateRules":
            label = str(change.get("listener"))
            for item in (body.get("Rules") or {}).get("Rule") or []:
                self.ids.put(
                    "rule",
                    lb,
                    f"{label}/{item.get('RuleName')}",
                    str(item.get("RuleId")),
                )
            return None
        return None

    def _remember_certificate(self, change: Change, body: dict[str, Any]) -> str | None:
        kind = "ca_certificate" if change.get("kind") == "ca" else "certificate"
        prefix = "CACertificate" if kind == "ca_certificate" else "ServerCertificate"
        created = body.get(f"{prefix}Id")
        if created:
            upload_name = str(change.get("upload_name"))
            self.ids.put(kind, "", upload_name, str(created))
            self.ids.put(kind, "", certificate_spec_name(upload_name), str(created))
        return str(created) if created else None


def _certificate_files(change: Change) -> dict[str, str]:
    """The PEM texts of an upload, read from the spec's files at apply time."""
    cert_file = str(change.get("certificate_file") or "")
    key_file = change.get("private_key_file")
    try:
        text = Path(cert_file).read_text(encoding="utf-8")
        if change.action == "UploadCACertificate":
            return {"CACertificate": text}
        if not key_file:
            raise TargetError(
                f"{change.address}: a server certificate needs private_key_file; add it to the spec"  # noqa: E501
            )
        key = Path(str(key_file)).read_text(encoding="utf-8")
    except OSError as err:
        raise TargetError(
            f"{change.address}: cannot read {err.filename}: {err.strerror}; check the path in the spec"  # noqa: E501
        ) from err
    return {"ServerCertificate": text, "PrivateKey": key}
