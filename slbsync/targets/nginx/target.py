"""The nginx target: one owned file, rendered, validated, swapped, reloaded.

Every change a plan lists for nginx is staged by ``apply_change`` into the
desired model (starting from the owned file as it is); ``commit`` renders
the whole file once and puts it live (see ``deploy.py``), so a run costs one
``nginx -t`` and one reload however many changes it carries.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    FieldChange,
    ResourceAddress,
    ResourceKind,
    payload_of,
)
from slbsync.diff.differences import Difference, DifferenceStatus
from slbsync.errors import ConfigRejectedError
from slbsync.spec.model import (
    Acl,
    Certificate,
    Listener,
    LoadBalancer,
    Spec,
    TargetSpec,
)
from slbsync.spec.plain import from_plain, to_plain
from slbsync.targets.base import (
    ChangeOutcome,
    LiveAcl,
    LiveCertificate,
    LiveLoadBalancer,
    LiveState,
    Target,
)
from slbsync.targets.nginx.capabilities import spec_problems
from slbsync.targets.nginx.deploy import deploy
from slbsync.targets.nginx.mapping import normalise_load_balancer
from slbsync.targets.nginx.options import parse_options
from slbsync.targets.nginx.read import read_owned_config
from slbsync.targets.nginx.render import (
    CertificateFiles,
    empty_upstreams,
    held_back,
    render,
)
from slbsync.targets.nginx.staging import stage

log = logging.getLogger(__name__)

ACTION = "render+reload"
"""What every nginx change does: it is staged, and commit renders and reloads."""

_OP = {
    DifferenceStatus.MISSING: ChangeOp.CREATE,
    DifferenceStatus.MODIFIED: ChangeOp.UPDATE,
    DifferenceStatus.UNEXPECTED: ChangeOp.DELETE,
}
_OP_ORDER = {ChangeOp.CREATE: 0, ChangeOp.UPDATE: 1, ChangeOp.DELETE: 2}

# The spec refuses a load balancer setting nginx does not take where it is
# written (Target.load_balancer_settings), and the fields in UNKEPT_FIELDS
# too (Target.unkept_fields), so these are always defaults here.
UNKEPT_FIELDS = {
    "load balancer": {
        "adopt": "the nginx target owns every load balancer in its file, so there "
        "is none to adopt; remove adopt",
    },
    "listener": {
        "description": "nginx keeps no listener descriptions; remove description, "
        "or put it in a comment in your spec",
    },
    "server group": {
        "tags": "nginx keeps no tags on a server group; remove tags, or put them "
        "in a comment in your spec",
    },
    "server": {
        "description": "nginx keeps no server descriptions; remove description, "
        "or put it in a comment in your spec",
    },
    "acl": {
        "tags": "nginx keeps no tags on an ACL; remove tags, or put them in a "
        "comment in your spec",
    },
}
_CLOUD_ONLY_LB_FIELDS = frozenset(
    f.name
    for f in dataclasses.fields(LoadBalancer)
    if f.name not in ("name", "target", "server_groups", "listeners", "location")
)
_IGNORED = {
    ResourceKind.LOAD_BALANCER: _CLOUD_ONLY_LB_FIELDS,
    ResourceKind.LISTENER: frozenset(
        {"description", "backend_port", "connection_drain", "bandwidth"}
    ),
    ResourceKind.SERVER_GROUP: frozenset({"discover", "tags"}),
    ResourceKind.SERVERS: frozenset({"type", "description", "id"}),
    # nginx has nowhere to keep an ACL's tags.
    ResourceKind.ACL: frozenset({"tags"}),
}


class NginxTarget(Target):
    """nginx 1.22+ (open source), driven through one owned include file."""

    type_name = "nginx"
    writes_on_commit = True
    unkept_fields: ClassVar[Mapping[str, Mapping[str, str]]] = UNKEPT_FIELDS

    def __init__(self, spec: TargetSpec) -> None:
        super().__init__(spec)
        self.options = parse_options(spec)
        self._certificates: dict[str, CertificateFiles] = {}
        self._staged: dict[str, LoadBalancer] | None = None
        self._acls: dict[str, Acl] = {}  # the staged ACLs, by name
        self._file_drain_cap: int | None = None  # as read from the owned file
        self._file_addresses: set[str] = set()
        # The apply runner calls apply_change for several load balancers at
        # once; staging is one model, so one at a time.
        self._lock = threading.Lock()

    # -- validation and normalisation -------------------------------------

    def validate(self, spec: Spec) -> list[str]:
        return spec_problems(spec, self.spec)

    def normalise(self, lb: LoadBalancer) -> LoadBalancer:
        return normalise_load_balancer(lb)

    def ignored_fields(self, kind: ResourceKind) -> frozenset[str]:
        return _IGNORED.get(kind, frozenset())

    def lock_scope(self, load_balancer: str) -> str:
        # One owned file holds every load balancer: one lock for all of them.
        return os.path.basename(self.options.config_path) or "owned-file"

    # -- reading -----------------------------------------------------------

    def read_live_state(self, spec: Spec) -> LiveState:
        certificates = spec.certificates_on(self.name) or spec.certificates
        for cert in certificates:
            if _has_files(cert):
                self._certificates[cert.name] = _files_of(cert)
        names = {files.certificate: name for name, files in self._certificates.items()}
        owned = read_owned_config(self.options.config_path, self.name, names)
        for name, files in owned.certificates.items():
            self._certificates.setdefault(name, files)
        self._file_drain_cap = owned.worker_shutdown_timeout
        self._file_addresses = owned.listen_addresses

        live = tuple(
            LiveLoadBalancer(
                spec=lb,
                id=lb.name,
                owned=True,
                running=tuple(listener.key for listener in lb.listeners),
            )
            for lb in owned.load_balancers
        )
        # nginx reads certificates from the user's files: nothing to upload.
        # Live is what nginx loaded at the last apply (its fingerprint), so a
        # renewed file shows as an update, which the reload carries out.
        live_certificates = tuple(
            LiveCertificate(
                certificate=dataclasses.replace(
                    c, fingerprint=owned.fingerprints.get(c.name, c.fingerprint)
                ),
                id=c.certificate_file,
                owned=True,
            )
            for c in spec.certificates_on(self.name)
        )
        acls = tuple(LiveAcl(acl, id=acl.name, owned=True) for acl in owned.acls)
        log.debug("read: target=%s load_balancers=%d", self.name, len(live))
        return LiveState(
            target=self.name,
            load_balancers=live,
            acls=acls,
            certificates=live_certificates,
            reads=(("parse", 1),),
        )

    # -- planning ----------------------------------------------------------

    def changes_for(
        self, differences: Sequence[Difference], live: LiveState
    ) -> list[Change]:
        changes = [self._change_for(d) for d in differences]
        settings = self._target_setting_change(live)
        if settings is not None:
            changes.append(settings)
        return sorted(changes, key=lambda c: _OP_ORDER[c.op])

    def _target_setting_change(self, live: LiveState) -> Change | None:
        """Changed target options, shown on one load balancer.

        The drain cap (``worker_shutdown_timeout``) and the listen address are
        settings of the whole nginx, not resources the diff knows; when the
        file's differ from the options, the first live load balancer carries
        them as field changes, and the commit renders them.
        """
        if not live.load_balancers:
            return None
        fields = []
        cap = self.options.worker_shutdown_timeout
        if self._file_drain_cap not in (None, cap):
            old = f"{self._file_drain_cap}s"
            fields.append(FieldChange("worker_shutdown_timeout", old, f"{cap}s"))
        address = self.options.listen_address or ""
        if self._file_addresses and self._file_addresses != {address}:
            old_address = ", ".join(sorted(self._file_addresses))
            fields.append(FieldChange("listen_address", old_address, address))
        if not fields:
            return None
        name = min(lb.spec.name for lb in live.load_balancers)
        return Change(
            op=ChangeOp.UPDATE,
            address=ResourceAddress(self.name, name, ResourceKind.LOAD_BALANCER, name),
            action=ACTION,
            fields=tuple(fields),
            live_id=name,
            payload=payload_of(desired=None, live=None),
            note="settings of the whole nginx (target options)",
        )

    def _change_for(self, difference: Difference) -> Change:
        payload: dict[str, Any] = {
            "desired": _plain(difference.desired),
            "live": _plain(difference.live),
        }
        desired = difference.desired
        if isinstance(desired, Listener):
            # The files travel with the change, so a saved plan can render them.
            for key, name in (
                ("certificate_files", desired.certificate),
                ("ca_certificate_files", desired.ca_certificate),
            ):
                files = self._certificates.get(name or "")
                if files:
                    payload[key] = dataclasses.asdict(files)
        return Change(
            op=_OP[difference.status],
            address=difference.address,
            action=ACTION,
            fields=difference.fields,
            live_id=difference.live_id,
            payload=payload_of(**payload),
        )

    # -- writing -----------------------------------------------------------

    def apply_change(self, change: Change) -> ChangeOutcome:
        with self._lock:
            if self._staged is None:
                owned = read_owned_config(self.options.config_path, self.name)
                self._certificates = {**owned.certificates, **self._certificates}
                self._staged = {
                    lb.name: _with_held_back(lb, owned.held_back.get(lb.name, []))
                    for lb in owned.load_balancers
                }
                self._acls = {acl.name: acl for acl in owned.acls}
            desired = change.get("desired")
            for key, field in (
                ("certificate_files", "certificate"),
                ("ca_certificate_files", "ca_certificate"),
            ):
                files = change.get(key)
                if files and desired and desired.get(field):
                    self._certificates[desired[field]] = CertificateFiles(**files)
            if change.address.kind == ResourceKind.CERTIFICATE and desired:
                cert = from_plain(Certificate, desired)
                if _has_files(cert):
                    self._certificates[cert.name] = _files_of(cert)
            if change.address.kind == ResourceKind.ACL:
                self._stage_acl(change)
            stage(self._staged, change, self.name)
        log.info("apply: target=%s staged=%s", self.name, change.summary)
        return ChangeOutcome(change=change, note="staged for commit")

    def _stage_acl(self, change: Change) -> None:
        name = change.address.name
        self._acls.pop(name, None)
        if change.op != ChangeOp.DELETE:
            self._acls[name] = from_plain(Acl, change.get("desired"))

    def commit(self) -> None:
        """Render every staged change into the owned file and put it live."""
        with self._lock:
            staged, self._staged = self._staged, None
        if staged is None:
            return
        lbs = [normalise_load_balancer(lb) for lb in staged.values()]

        # Refused before anything is written: nginx cannot run an empty upstream.
        empty = empty_upstreams(lbs)
        if empty:
            raise ConfigRejectedError(f"target {self.name}: " + "; ".join(empty))
        named = {
            name
            for lb in lbs
            for listener in lb.listeners
            for name in (listener.certificate, listener.ca_certificate)
            if name
        }
        missing = sorted(named - set(self._certificates))
        if missing:
            raise ConfigRejectedError(
                f"target {self.name}: no certificate files known for "
                f"{', '.join(missing)}; give them certificate_file and "
                "private_key_file in the spec"
            )
        self._check_acls(lbs)
        for lb in lbs:
            for listener in held_back(lb):
                log.warning(
                    "apply: target=%s load_balancer=%s listener=%s held back: its "
                    "external group has no server yet; slbsync register brings it up",
                    self.name,
                    lb.name,
                    listener.label,
                )
        text = render(lbs, self._certificates, self.options, self._acls)
        if _current_text(self.options.config_path) == text:
            log.info("apply: target=%s file unchanged, no reload", self.name)
            return
        empty_text = render([], {}, self.options)
        note = deploy(text, self.options, self.name, empty_text)
        log.info("apply: target=%s committed=%s", self.name, note)

    def _check_acls(self, lbs: list[LoadBalancer]) -> None:
        # Without its entries a white list would shut everyone out.
        named = {x.acl.acl for lb in lbs for x in lb.listeners if x.acl is not None}
        missing = sorted(named - set(self._acls))
        if missing:
            raise ConfigRejectedError(
                f"target {self.name}: no ACL known for {', '.join(missing)}: a "
                "listener names it but neither the spec's acls nor the owned file "
                "have it; add it to acls in the spec"
            )

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "type": self.type_name,
            "config_path": self.options.config_path,
        }


def _plain(value: Any) -> Any:
    return to_plain(value) if value is not None else None


def _with_held_back(lb: LoadBalancer, waiting: list[Listener]) -> LoadBalancer:
    """``lb`` with the listeners the file holds back, as the staging base."""
    if not waiting:
        return lb
    return dataclasses.replace(lb, listeners=(*lb.listeners, *waiting))


def _has_files(cert: Certificate) -> bool:
    """A server certificate needs its key file; a CA certificate only itself."""
    if cert.kind == "ca":
        return bool(cert.certificate_file)
    return bool(cert.certificate_file and cert.private_key_file)


def _files_of(cert: Certificate) -> CertificateFiles:
    return CertificateFiles(
        cert.certificate_file, cert.private_key_file or "", cert.fingerprint
    )


def _current_text(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None
