"""The ``haproxy`` target: one owned file plus HAProxy's runtime API.

A run works on a model of the owned file (load balancers in the spec's
vocabulary), read from the file and the runtime state on the first change.
Runtime changes (add a server, set a weight, drain and delete a server)
happen at once over the stats socket, so a node joins or leaves without a
reload; every change also updates the model. ``commit`` then finishes the
drains, renders the model, checks it with ``haproxy -c``, swaps it in
atomically and, only when the structure changed, reloads through the
master socket and confirms the reload. A rejected file never goes live;
a failed reload puts the previous file back and reloads again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from slbsync.diff.changes import Change, ChangeOp, ResourceKind
from slbsync.diff.differences import Difference
from slbsync.errors import ConfigRejectedError, TargetError
from slbsync.spec.fields import PER_TARGET_LB_FIELDS
from slbsync.spec.model import (
    HealthCheck,
    Listener,
    LoadBalancer,
    Server,
    ServerGroup,
    Spec,
    TargetSpec,
)
from slbsync.spec.plain import from_plain
from slbsync.targets.base import ChangeOutcome, LiveLoadBalancer, LiveState, Target
from slbsync.targets.haproxy import changes as haproxy_changes
from slbsync.targets.haproxy.mapping import server_endpoint
from slbsync.targets.haproxy.normalise import normalise_load_balancer
from slbsync.targets.haproxy.options import (
    DEFAULT_HARD_STOP_AFTER,
    parse_options,
)
from slbsync.targets.haproxy.parse import OwnedFileError, parse_owned
from slbsync.targets.haproxy.read import LiveView, read_live
from slbsync.targets.haproxy.regional import (
    RegionalModel,
    live_acls,
    live_certificates,
    used_certificate_files,
    with_rule,
)
from slbsync.targets.haproxy.reload import (
    ReloadFailedError,
    check_config,
    reload_and_confirm,
    restore_previous,
    swap_in,
    write_atomically,
)
from slbsync.targets.haproxy.render import check_parameters, render
from slbsync.targets.haproxy.runtime_api import (
    MasterApi,
    ProcessTable,
    RuntimeApi,
    RuntimeApiError,
    SocketUnreachableError,
)
from slbsync.targets.haproxy.tls import remove_unused
from slbsync.targets.haproxy.validate import validate_spec

log = logging.getLogger(__name__)

# The spec refuses a load balancer setting HAProxy does not take where it is
# written (Target.load_balancer_settings), and the fields in UNKEPT_FIELDS
# too (Target.unkept_fields), so these are always defaults here.
UNKEPT_FIELDS = {
    "server group": {
        "tags": "HAProxy keeps no tags on a server group; remove tags, or put them "
        "in a comment in your spec",
    },
    "server": {
        "description": "HAProxy keeps no server descriptions; remove description, "
        "or put it in a comment in your spec (a listener's description is kept)",
    },
    "acl": {
        "tags": "HAProxy keeps no tags on an ACL; remove tags, or put them in a "
        "comment in your spec",
    },
}


@dataclass
class _Drain:
    """A server being removed: draining until its sessions end or time is up."""

    backend: str
    server: str
    deadline: float


class HaproxyTarget(Target):
    type_name: ClassVar[str] = "haproxy"
    writes_on_commit: ClassVar[bool] = True
    unkept_fields: ClassVar[Mapping[str, Mapping[str, str]]] = UNKEPT_FIELDS

    sleep: Callable[[float], None] = staticmethod(time.sleep)
    clock: Callable[[], float] = staticmethod(time.monotonic)

    def __init__(self, spec: TargetSpec) -> None:
        super().__init__(spec)
        self.options, self._option_problems = parse_options(spec)
        self.runtime = RuntimeApi(self.options.runtime_socket)
        self.master = MasterApi(self.options.master_socket)
        self._model: dict[str, LoadBalancer] | None = None
        self._view: LiveView | None = None
        self._structure_changed = False
        self._dirty = False
        self._drains: list[_Drain] = []
        self._regional: RegionalModel | None = None
        self.last_reload: ProcessTable | None = None  # after the last reload
        # The apply runner works on load balancers in parallel; they share
        # one model and one file.
        self._lock = threading.RLock()

    # -- validation and normalisation -------------------------------------

    def validate(self, spec: Spec) -> list[str]:
        where = f"{self.spec.location} " if self.spec.location else ""
        problems = [
            f"{where}targets.{self.name}.{item}" for item in self._option_problems
        ]
        return problems + validate_spec(spec, self.name, self.options.hard_stop_after)

    def normalise(self, lb: LoadBalancer) -> LoadBalancer:
        return normalise_load_balancer(lb)

    def ignored_fields(self, kind: ResourceKind) -> frozenset[str]:
        if kind == ResourceKind.LOAD_BALANCER:
            return PER_TARGET_LB_FIELDS
        if kind == ResourceKind.SERVERS:
            return frozenset({"description", "type"})
        if kind == ResourceKind.LISTENER:
            return frozenset({"backend_port", "bandwidth"})
        if kind in (ResourceKind.SERVER_GROUP, ResourceKind.ACL):
            return frozenset({"tags"})
        return frozenset()

    def changes_for(
        self, differences: Sequence[Difference], live: LiveState
    ) -> list[Change]:
        return haproxy_changes.changes_for(differences, live)

    def membership_probe(self, lb: str, group: str) -> Any | None:
        """Health and open sessions for register and deregister (``probe.py``)."""
        from slbsync.targets.haproxy.probe import HaproxyProbe

        return HaproxyProbe(self, lb, group)

    def describe(self) -> dict[str, Any]:
        return {
            "target": self.name,
            "type": self.type_name,
            "config_path": str(self.options.config_path),
            "runtime_socket": str(self.options.runtime_socket),
        }

    def lock_scope(self, load_balancer: str) -> str:
        # One owned file holds every load balancer: one lock for all of them.
        return self.options.config_path.name

    # -- reading ------------------------------------------------------------

    def read_live_state(self, spec: Spec) -> LiveState:
        view = read_live(self.name, self.options, self.runtime)
        load_balancers = tuple(
            LiveLoadBalancer(
                spec=lb,
                id=lb.name,
                owned=True,
                running=tuple(listener.key for listener in lb.listeners),
            )
            for lb in view.load_balancers
        )
        return LiveState(
            self.name,
            load_balancers,
            acls=live_acls(view.owned),
            certificates=live_certificates(
                view.owned, self.name, self.options.certificates_path
            ),
            reads=view.reads,
        )

    def _load(self) -> dict[str, LoadBalancer]:
        if self._model is None:
            self._view = read_live(self.name, self.options, self.runtime)
            self._model = {lb.name: lb for lb in self._view.load_balancers}
            self._regional = RegionalModel.from_owned(self._view.owned)
        return self._model

    @property
    def _runtime_up(self) -> bool:
        return bool(self._view and self._view.runtime_reachable)

    # -- applying -----------------------------------------------------------

    def apply_change(self, change: Change) -> ChangeOutcome:
        with self._lock:
            return self._apply(change)

    def _apply(self, change: Change) -> ChangeOutcome:
        model = self._load()
        kind = change.address.kind
        lb_name = change.address.load_balancer
        log.debug("haproxy: apply change=%s", change.summary)
        if kind == ResourceKind.SERVERS:
            return self._apply_server(change, model)
        self._structure_changed = self._dirty = True
        if kind in (ResourceKind.CERTIFICATE, ResourceKind.ACL):
            assert self._regional is not None  # made by _load
            self._regional.stage(change)
        elif kind == ResourceKind.LOAD_BALANCER:
            if change.op == ChangeOp.DELETE:
                model.pop(lb_name, None)
            else:
                model.setdefault(lb_name, LoadBalancer(name=lb_name, target=self.name))
        elif kind == ResourceKind.SERVER_GROUP:
            lb = self._lb(model, lb_name)
            groups = [g for g in lb.server_groups if g.name != change.address.name]
            if change.op != ChangeOp.DELETE:
                groups.append(from_plain(ServerGroup, change.get("group")))
            model[lb_name] = replace(lb, server_groups=tuple(groups))
        elif kind == ResourceKind.LISTENER:
            model[lb_name] = self._with_listener(self._lb(model, lb_name), change)
        elif kind == ResourceKind.RULE:
            model[lb_name] = with_rule(self._lb(model, lb_name), change)
        else:
            raise TargetError(f"target {self.name}: cannot apply {change.summary}")
        return ChangeOutcome(change, note="rendered on commit")

    def _lb(self, model: dict[str, LoadBalancer], name: str) -> LoadBalancer:
        return model.setdefault(name, LoadBalancer(name=name, target=self.name))

    def _with_listener(self, lb: LoadBalancer, change: Change) -> LoadBalancer:
        if change.op == ChangeOp.DELETE:
            protocol, port = change.get("key")
            key = (protocol, port)
            wanted = None
        else:
            wanted = from_plain(Listener, change.get("listener"))
            key = wanted.key
        listeners = [item for item in lb.listeners if item.key != key]
        if wanted is not None:
            # A protocol change on the same port replaces the old frontend.
            listeners = [item for item in listeners if item.port != wanted.port]
            listeners.append(wanted)
        listeners.sort(key=lambda item: (item.port, item.key))
        return replace(lb, listeners=tuple(listeners))

    def _apply_server(
        self, change: Change, model: dict[str, LoadBalancer]
    ) -> ChangeOutcome:
        server = from_plain(Server, change.get("server"))
        backend: str = change.get("backend")
        name: str = change.get("name")
        if not self._runtime_up or backend not in self._view_backends():
            # Nothing running serves this backend yet: the file carries it.
            note = "HAProxy is not serving it; file only"
            self._structure_changed = True
        elif change.op == ChangeOp.CREATE:
            check = change.get("health_check")
            health = from_plain(HealthCheck, check) if check else None
            extra = ("send-proxy",) if change.get("proxy_protocol") else ()
            note = self._join(backend, name, server, health, extra)
            if change.get("sticky"):
                # HAProxy 2.6 gives a server added at runtime an empty
                # dynamic cookie; this makes it derive every server's again.
                self.runtime.run_ok(f"enable dynamic-cookie backend {backend}")
        elif change.op == ChangeOp.UPDATE:
            note = self._reweigh(backend, name, server.weight)
        else:
            note = self._leave(backend, name, change.get("connection_drain"))
        # The model follows only once HAProxy took the change.
        self._put_server(model, change, server)
        return ChangeOutcome(change, note=note)

    def _put_server(
        self, model: dict[str, LoadBalancer], change: Change, server: Server
    ) -> None:
        lb = self._lb(model, change.address.load_balancer)
        group_name: str = change.get("group")
        group = lb.server_group(group_name) or ServerGroup(name=group_name)
        others = tuple(s for s in group.servers if s.key != server.key)
        servers = others if change.op == ChangeOp.DELETE else (*others, server)
        groups = [g for g in lb.server_groups if g.name != group_name]
        groups.append(replace(group, servers=servers))
        model[lb.name] = replace(lb, server_groups=tuple(groups))
        self._dirty = True

    def _join(
        self,
        backend: str,
        name: str,
        server: Server,
        check: HealthCheck | None,
        extra: tuple[str, ...] = (),
    ) -> str:
        self._add_server(backend, name, server, check, extra)
        if check and check.enabled:
            return "added; takes traffic once its health check passes"
        return "added"

    def _reweigh(self, backend: str, name: str, weight: int) -> str:
        try:
            self.runtime.run_ok(
                f"set server {backend}/{name} weight {weight}",
                f"set server {backend}/{name} state ready",
            )
        except RuntimeApiError as err:
            if "No such server" not in err.reply:
                raise
            # In the file but not running: the reload brings it in.
            self._structure_changed = True
            return "not running; reloaded on commit"
        return f"weight {weight}"

    def _leave(self, backend: str, name: str, connection_drain: int | None) -> str:
        try:
            self.runtime.set_state(backend, name, "drain")
        except RuntimeApiError as err:
            if "No such server" not in err.reply:
                raise
            return "not running; removed from the file"
        seconds = self._drain_seconds(connection_drain)
        self._drains.append(_Drain(backend, name, self.clock() + seconds))
        return f"draining for up to {seconds}s, deleted on commit"

    def _view_backends(self) -> frozenset[str]:
        return self._view.live_backends if self._view else frozenset()

    def _add_server(
        self,
        backend: str,
        name: str,
        server: Server,
        check: HealthCheck | None,
        extra: tuple[str, ...] = (),
    ) -> None:
        """Register a server so that it takes traffic only once it is healthy."""
        arguments = [f"weight {server.weight}", *extra]
        if check and check.enabled:
            arguments += ["check", *check_parameters(check)]
        target = f"{backend}/{name}"
        try:
            self.runtime.add_server(backend, name, server_endpoint(server), arguments)
        except RuntimeApiError as err:
            if "Already exists" not in err.reply:
                raise
            # Left behind by an earlier run (e.g. kept in maintenance).
            self.runtime.run_ok(
                f"set server {target} weight {server.weight}",
                f"set server {target} state ready",
            )
            return
        if check and check.enabled:
            # One connection, in this order: checks run, the server leaves
            # maintenance marked down, and rise passing checks bring it up.
            self.runtime.run_ok(
                f"enable health {target}",
                f"enable server {target}",
                f"set server {target} health down",
            )
        else:
            self.runtime.run_ok(f"enable server {target}")

    def _drain_seconds(self, connection_drain: int | None) -> int:
        if self.options.drain_timeout is not None:
            return self.options.drain_timeout
        return connection_drain or self._hard_stop_after()

    def _hard_stop_after(self) -> int:
        if self.options.hard_stop_after is not None:
            return self.options.hard_stop_after
        drains = [
            listener.connection_drain or 0
            for lb in (self._model or {}).values()
            for listener in lb.listeners
        ]
        return max(drains, default=0) or DEFAULT_HARD_STOP_AFTER

    # -- committing ---------------------------------------------------------

    def commit(self) -> None:
        """Finish drains, then render, check, swap and (if needed) reload."""
        with self._lock:
            try:
                self._commit()
            finally:
                # The next run starts from a fresh read of what is live.
                self._model = self._view = self._regional = None
                self._forget_unused_certificates()
                self._dirty = self._structure_changed = False
                self._drains.clear()

    def _commit(self) -> None:
        if self._drains:
            self._finish_drains()
        if not self._dirty or self._model is None:
            return
        lbs = list(self._model.values())
        assert self._regional is not None  # made with the model
        regional = self._regional.written(self.options.certificates_path, lbs)
        hard_stop_after = self._hard_stop_after()
        text = render(self.name, lbs, self.options, hard_stop_after, regional)
        self._put_live(text, reload=self._structure_changed)

    def _forget_unused_certificates(self) -> None:
        """Remove PEM files the live file no longer names (after any outcome)."""
        path = self.options.config_path
        text = path.read_text() if path.exists() else ""
        try:
            owned = parse_owned(text, self.name, str(path))
        except OwnedFileError:
            return  # the next plan reports the file; keep every PEM meanwhile
        directory = self.options.certificates_path
        remove_unused(directory, used_certificate_files(owned, directory))

    def is_transient(self, error: BaseException) -> bool:
        # Nothing was sent: HAProxy was restarting or its socket not yet there.
        return isinstance(error, SocketUnreachableError)

    def _finish_drains(self) -> None:
        """Wait for drained servers to go idle, then maint, cut if due, delete."""
        pending = list(self._drains)
        self._drains.clear()
        log.info(
            "haproxy: draining servers=%d for up to %ds",
            len(pending),
            max(0, round(max(d.deadline for d in pending) - self.clock())),
        )
        while pending:
            still = []
            for drain in pending:
                sessions = self.runtime.current_sessions(drain.backend)
                if sessions.get(drain.server, 0) and self.clock() < drain.deadline:
                    still.append(drain)
                else:
                    self._delete_drained(drain, sessions.get(drain.server, 0))
            pending = still
            if pending:
                self.sleep(0.1)

    def _delete_drained(self, drain: _Drain, sessions: int) -> None:
        self.runtime.set_state(drain.backend, drain.server, "maint")
        target = f"{drain.backend}/{drain.server}"
        if sessions and not self.options.cut_after_drain:
            log.warning(
                "haproxy: server=%s keeps %d sessions after its drain; left in "
                "maintenance (cut_after_drain is off)",
                target,
                sessions,
            )
            return
        if sessions:
            log.info("haproxy: drain over server=%s cutting=%d", target, sessions)
            self.runtime.shutdown_sessions(drain.backend, drain.server)
        self._delete_server(drain)

    def _delete_server(self, drain: _Drain) -> None:
        # Cut sessions take a moment to detach from the server.
        for _ in range(50):
            try:
                self.runtime.delete_server(drain.backend, drain.server)
                return
            except RuntimeApiError as err:
                if "still has connections" not in err.reply:
                    raise
                self.sleep(0.05)
        self.runtime.delete_server(drain.backend, drain.server)

    def _put_live(self, text: str, *, reload: bool) -> None:
        options = self.options
        current = (
            options.config_path.read_text() if options.config_path.exists() else ""
        )
        if text == current and not reload:
            return
        pending = options.pending_config_path
        pending.parent.mkdir(parents=True, exist_ok=True)
        pending.write_text(text)
        check_config(options, pending)
        self._save_server_state()
        swap_in(options, pending)
        log.info("haproxy: wrote %s reload=%s", options.config_path, reload)
        if reload:
            self._reload_or_roll_back()

    def _save_server_state(self) -> None:
        """Keep the server-state file current, so a reload keeps runtime state."""
        try:
            state = self.runtime.state_file_text()
        except SocketUnreachableError:
            return
        self.options.state_file.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.options.state_file, state)

    def _reload_or_roll_back(self) -> None:
        if not self.master.is_reachable():
            log.warning(
                "haproxy: master socket %s does not answer; %s takes effect when "
                "HAProxy starts",
                self.options.master_socket,
                self.options.config_path,
            )
            return
        try:
            self.last_reload = reload_and_confirm(
                self.master, self.options.reload_timeout, self.sleep, self.clock
            )
        except (ReloadFailedError, RuntimeApiError) as err:
            restored = restore_previous(self.options)
            if restored:
                self.last_reload = reload_and_confirm(
                    self.master, self.options.reload_timeout, self.sleep, self.clock
                )
            outcome = (
                "the previous file was put back and reloaded"
                if restored
                else "there was no previous file to put back"
            )
            raise ConfigRejectedError(
                f"{err}; {outcome}, so HAProxy serves the configuration it had "
                "before this run"
            ) from err
