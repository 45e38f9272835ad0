"""Locks per load balancer, so runs that change one never interleave.

Applies, drift remediations and registrations all take the lock of each load
balancer they change (of its scope: ``Target.lock_scope``). The default is a
file lock, enough when every run happens on one host. When runs happen on
several hosts, a target sets ``lock: redis://host:port/db`` and the lock
becomes a Redis lease: it expires if its holder dies, and a background
thread renews it while the holder works. A holder that loses its lease
(Redis unreachable for longer than the lease, or stalled past it) finds out
at its next ``ensure_held``, which asks Redis, and stops; runs call it
before each write.

Every command finds file locks by one rule (``lock_dir_for``), so an apply
from CI, a drift service and a boot script's register on one host see each
other's locks: ``--lock-dir`` (or ``SLBSYNC_LOCK_DIR``) when given, else the
target's ``lock: file:///dir``, else the target's own default (the embedded
emulator keeps its locks beside its state), else ``/var/lib/slbsync/locks``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import filelock

from slbsync.errors import LockError

if TYPE_CHECKING:
    from slbsync.targets.base import Target

log = logging.getLogger(__name__)

DEFAULT_LOCK_DIR = Path("/var/lib/slbsync/locks")
LOCK_DIR_ENV = "SLBSYNC_LOCK_DIR"
FILE_SCHEME = "file://"
# Lock files are empty; any user who may write the directory may lock them.
# Without this a root boot script's lock file would lock out the drift
# service's user (0644 under the usual umask).
LOCK_FILE_MODE = 0o666
DEFAULT_LEASE_SECONDS = 30.0
DEFAULT_WAIT_SECONDS = 600.0
# How often a waiting run tries a file lock again. filelock's own 50 ms made
# 150 registrations waiting in a burst spend several cores on polling alone;
# with many waiters one of them still retries within a few ms of a release.
FILE_POLL_SECONDS = 0.25


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)


class LoadBalancerLock(ABC):
    """An exclusive lock on one load balancer of one target."""

    def __init__(self, target: str, load_balancer: str) -> None:
        self.target = target
        self.load_balancer = load_balancer

    @property
    def label(self) -> str:
        return f"{self.target}/{self.load_balancer}"

    @abstractmethod
    def acquire(self, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
        """Take the lock, waiting up to ``wait_seconds``; LockError if not."""

    @abstractmethod
    def release(self) -> None:
        """Give the lock back; harmless if it is no longer held."""

    def ensure_held(self) -> None:
        """Raise LockError if the lock was lost since it was taken."""
        return None

    def __enter__(self) -> LoadBalancerLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class FileLoadBalancerLock(LoadBalancerLock):
    """A lock file per load balancer; the OS frees it if the holder dies."""

    def __init__(
        self, target: str, load_balancer: str, directory: Path = DEFAULT_LOCK_DIR
    ) -> None:
        super().__init__(target, load_balancer)
        self.directory = directory
        name = f"{_safe_name(target)}--{_safe_name(load_balancer)}.lock"
        self.path = directory / name
        self._lock = filelock.FileLock(str(self.path), mode=LOCK_FILE_MODE)

    def acquire(self, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise LockError(
                f"lock {self.label}: cannot use the lock directory {self.directory} ({err.strerror}); create it, writable by every user that runs slbsync on this host, or choose another with lock: file:///path in target {self.target} or --lock-dir"  # noqa: E501
            ) from err
        try:
            self._lock.acquire(timeout=wait_seconds, poll_interval=FILE_POLL_SECONDS)
        except filelock.Timeout:
            raise LockError(
                f"lock {self.label}: another run still holds {self.path} after "
                f"{wait_seconds:.0f}s; wait for it to finish, or find it with "
                f"`fuser {self.path}`"
            ) from None
        log.debug("lock: acquired=%s kind=file", self.label)

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()
            log.debug("lock: released=%s kind=file", self.label)


class RedisLoadBalancerLock(LoadBalancerLock):
    """A Redis lease that expires if its holder dies and is renewed meanwhile."""

    def __init__(
        self,
        target: str,
        load_balancer: str,
        url: str,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> None:
        super().__init__(target, load_balancer)
        import redis

        self.url = url
        self.lease_seconds = lease_seconds
        self._client = redis.Redis.from_url(url, socket_timeout=lease_seconds / 3)
        key = f"slbsync:lock:{target}:{load_balancer}"
        # thread_local=False: the renewal thread must see the holder's token.
        self._lock = self._client.lock(
            key, timeout=lease_seconds, sleep=0.05, thread_local=False
        )
        self._stop_renewing = threading.Event()
        self._renewer: threading.Thread | None = None
        self._lost: str | None = None

    def acquire(self, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> None:
        import redis

        try:
            taken = self._lock.acquire(blocking=True, blocking_timeout=wait_seconds)
        except redis.RedisError as err:
            raise LockError(
                f"lock {self.label}: Redis at {self._public_url()} failed: {err}"
            ) from err
        if not taken:
            raise LockError(
                f"lock {self.label}: another run still holds it after "
                f"{wait_seconds:.0f}s (Redis {self._public_url()}); wait for it, "
                f"or let its lease of {self.lease_seconds:.0f}s expire if it died"
            )
        self._lost = None
        self._stop_renewing.clear()
        self._renewer = threading.Thread(
            target=self._renew, name=f"lease-{self.label}", daemon=True
        )
        self._renewer.start()
        log.debug("lock: acquired=%s kind=redis", self.label)

    def _renew(self) -> None:
        import redis

        # Renew at a third of the lease so two missed renewals still keep it.
        interval = self.lease_seconds / 3
        while not self._stop_renewing.wait(interval):
            try:
                self._lock.reacquire()
            except (redis.RedisError, redis.exceptions.LockError) as err:
                self._lost = str(err)
                log.warning("lock: lost=%s cause=%s", self.label, err)
                return

    def ensure_held(self) -> None:
        import redis

        # Asked of Redis, not only of the renewer: a holder stalled past its
        # lease (a paused VM) may not have heard yet that the key is gone.
        if self._lost is None:
            try:
                if not self._lock.owned():
                    self._lost = "the key expired or another run holds it"
            except redis.RedisError as err:
                self._lost = str(err)
        if self._lost is not None:
            raise LockError(
                f"lock {self.label}: the Redis lease was lost ({self._lost}); "
                "another run may now hold it, so this run stops here"
            )

    def release(self) -> None:
        import redis

        self._stop_renewing.set()
        if self._renewer is not None:
            self._renewer.join(timeout=5)
            self._renewer = None
        try:
            self._lock.release()
        except redis.exceptions.LockError:
            # The lease expired or was taken over; there is nothing to free.
            log.warning("lock: release=%s note=lease already gone", self.label)
        except redis.RedisError as err:
            log.warning("lock: release=%s cause=%s", self.label, err)
        else:
            log.debug("lock: released=%s kind=redis", self.label)

    def _public_url(self) -> str:
        # A Redis URL may carry a password; show only host, port and db.
        return re.sub(r"//[^@/]*@", "//***@", self.url)


def lock_dir_for(
    lock_setting: str | None,
    override: Path | None = None,
    target_default: Path | None = None,
) -> Path:
    """Where a target's file locks are: one rule for every command.

    ``override`` (``--lock-dir``), else ``SLBSYNC_LOCK_DIR``, else the
    directory of ``lock: file:///dir``, else the target's own default
    (``Target.default_lock_dir``), else ``DEFAULT_LOCK_DIR``.
    """
    if override is not None:
        return override
    from_environment = os.environ.get(LOCK_DIR_ENV)
    if from_environment:
        return Path(from_environment)
    if lock_setting and lock_setting.startswith(FILE_SCHEME):
        return Path(lock_setting.removeprefix(FILE_SCHEME))
    return target_default or DEFAULT_LOCK_DIR


def lock_for(
    target: str,
    load_balancer: str,
    lock_setting: str | None,
    *,
    lock_dir: Path | None = None,
    target_default: Path | None = None,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
) -> LoadBalancerLock:
    """The lock a target's ``lock`` setting asks for (file when unset).

    ``load_balancer`` is the lock's scope within the target
    (``Target.lock_scope``); ``lock_dir`` overrides where file locks are,
    ``target_default`` is the target's own choice when nothing else says.
    """
    if lock_setting in (None, "", "file") or _is_file_url(lock_setting):
        directory = lock_dir_for(lock_setting, lock_dir, target_default)
        return FileLoadBalancerLock(target, load_balancer, directory)
    assert lock_setting is not None
    if lock_setting.startswith(("redis://", "rediss://", "unix://")):
        return RedisLoadBalancerLock(target, load_balancer, lock_setting, lease_seconds)
    raise LockError(
        f'target {target}: lock "{lock_setting}" is not a lock; use file, '
        "file:///a/directory or redis://host:port/db"
    )


def _is_file_url(lock_setting: str | None) -> bool:
    # Absolute only: a relative directory would differ with each command's cwd.
    return bool(lock_setting and lock_setting.startswith(FILE_SCHEME + "/"))


def target_lock(
    target: Target, scope: str, lock_dir: Path | None = None
) -> LoadBalancerLock:
    """The lock of ``scope`` (``Target.lock_scope``) by the target's setting."""
    return lock_for(
        target.name,
        scope,
        target.spec.lock,
        lock_dir=lock_dir,
        target_default=target.default_lock_dir(),
    )


def lock_factory(
    lock_dir: Path | None = None,
) -> Callable[[Target, str], LoadBalancerLock]:
    """What the apply runner takes as ``locks``: each target's own setting."""

    def make(target: Target, scope: str) -> LoadBalancerLock:
        return target_lock(target, scope, lock_dir)

    return make
