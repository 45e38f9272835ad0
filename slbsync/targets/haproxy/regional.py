"""Certificates and ACLs on a haproxy target: kept in the owned file.

The spec declares certificates and ACLs once and listeners name them. On
HAProxy a certificate is a PEM file slbsync writes (see ``tls.py``) and an
ACL is an ``acl ... src`` line in each frontend that uses it; both are also
recorded in comments of the owned file, so a plan reads them back as live
and an unchanged spec plans clean.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

from slbsync.diff.changes import Change, ChangeOp, ResourceKind
from slbsync.errors import ConfigRejectedError
from slbsync.spec.model import Acl, Certificate, ForwardingRule, LoadBalancer
from slbsync.spec.plain import from_plain
from slbsync.targets.base import LiveAcl, LiveCertificate
from slbsync.targets.haproxy.parse import OwnedConfig
from slbsync.targets.haproxy.render import Regional
from slbsync.targets.haproxy.tls import (
    CertificateSource,
    OwnedCertificate,
    write_owned_pem,
)


@dataclass
class RegionalModel:
    """A run's certificates and ACLs: as the owned file has them, plus changes."""

    certificates: dict[str, OwnedCertificate] = field(default_factory=dict)
    to_write: dict[str, CertificateSource] = field(default_factory=dict)
    acls: dict[str, Acl] = field(default_factory=dict)
    cookie_key: str = ""

    @classmethod
    def from_owned(cls, owned: OwnedConfig) -> RegionalModel:
        return cls(
            certificates={item.name: item for item in owned.certificates},
            acls={acl.name: acl for acl in owned.acls},
            # Kept from the file: a new key would move every sticky client.
            cookie_key=owned.cookie_key or secrets.token_hex(16),
        )

    def stage(self, change: Change) -> None:
        name: str = change.get("name")
        if change.address.kind == ResourceKind.CERTIFICATE:
            self.certificates.pop(name, None)
            self.to_write.pop(name, None)
            if change.op != ChangeOp.DELETE:
                self.to_write[name] = CertificateSource(**change.get("certificate"))
        else:
            self.acls.pop(name, None)
            if change.op != ChangeOp.DELETE:
                self.acls[name] = from_plain(Acl, change.get("acl"))

    def written(self, directory: Path, lbs: list[LoadBalancer]) -> Regional:
        """Write the PEM files this run brings; what ``render`` needs."""
        for name, source in sorted(self.to_write.items()):
            self.certificates[name] = write_owned_pem(source, directory)
        self.to_write.clear()
        used = {
            name
            for lb in lbs
            for listener in lb.listeners
            for name in (listener.certificate, listener.ca_certificate)
            if name
        }
        self._check_acls(lbs)
        missing = sorted(used - set(self.certificates))
        if missing:
            raise ConfigRejectedError(
                f"no certificate known for {', '.join(missing)}: a listener names "
                "it but neither the spec's certificates nor the owned file have "
                "it; add it to certificates in the spec"
            )
        return Regional(dict(self.certificates), dict(self.acls), self.cookie_key)

    def _check_acls(self, lbs: list[LoadBalancer]) -> None:
        # An unknown white list would render empty and shut everyone out.
        named = {x.acl.acl for lb in lbs for x in lb.listeners if x.acl is not None}
        missing = sorted(named - set(self.acls))
        if missing:
            raise ConfigRejectedError(
                f"no ACL known for {', '.join(missing)}: a listener names it but "
                "neither the spec's acls nor the owned file have it; add it to "
                "acls in the spec"
            )


def live_certificates(
    owned: OwnedConfig, target: str, directory: Path
) -> tuple[LiveCertificate, ...]:
    """The certificates whose PEM file is there, as the spec names them."""
    found = []
    for item in owned.certificates:
        path = item.path(directory)
        if path.exists():
            certificate = Certificate(
                name=item.name,
                target=target,
                kind=item.kind,
                fingerprint=item.fingerprint,
            )
            found.append(LiveCertificate(certificate, id=str(path), owned=True))
    return tuple(found)


def live_acls(owned: OwnedConfig) -> tuple[LiveAcl, ...]:
    return tuple(LiveAcl(acl, id=acl.name, owned=True) for acl in owned.acls)


def used_certificate_files(owned: OwnedConfig, directory: Path) -> set[Path]:
    return {item.path(directory) for item in owned.certificates}


def with_rule(lb: LoadBalancer, change: Change) -> LoadBalancer:
    """``lb`` with one forwarding rule of one listener added, changed or gone."""
    label, _, rule_name = change.address.name.rpartition("/")
    listeners = []
    for listener in lb.listeners:
        if listener.label == label:
            rules = [rule for rule in listener.rules if rule.name != rule_name]
            if change.op != ChangeOp.DELETE:
                rules.append(from_plain(ForwardingRule, change.get("rule")))
            rules.sort(key=lambda rule: rule.name)
            listener = replace(listener, rules=tuple(rules))
        listeners.append(listener)
    return replace(lb, listeners=tuple(listeners))
