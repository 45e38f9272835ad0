"""A small client for HAProxy's runtime API (the stats and master sockets).

Plain ``socket`` on purpose: the API is lines of text, and the Python
wrappers that exist add nothing for adding or deleting servers, nor for
errors. The protocol facts this relies on (HAProxy 2.6):

- one command per connection; ``;`` chains commands that must not be
  interleaved with others, and the replies come back one after another;
- the client half-closes after sending, or the master socket never answers;
- there is no status code: a ``set``/``enable`` command that worked answers
  nothing, anything else is an error in prose (``No such server.``), and
  ``add server``/``del server`` answer ``New server registered.`` and
  ``Server deleted.``, matched exactly.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

from slbsync.errors import TargetError

log = logging.getLogger(__name__)

SERVER_ADDED = "New server registered."
SERVER_DELETED = "Server deleted."

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced, inherited, config,
# resolver and hostname maintenance; forced and inherited drain.
MAINT_FLAGS = 0x01 | 0x02 | 0x04 | 0x20 | 0x40
DRAIN_FLAGS = 0x08 | 0x10
OP_STATE_RUNNING = 2


class RuntimeApiError(TargetError):
    """The runtime API refused a command, or its socket could not be used."""

    def __init__(self, socket_path: Path, command: str, reply: str) -> None:
        super().__init__(
            f"HAProxy runtime API at {socket_path}: {command!r} failed: {reply}"
        )
        self.command = command
        self.reply = reply


class SocketUnreachableError(RuntimeApiError):
    """Nothing answers on the socket: HAProxy is not running, or not there."""


@dataclass(frozen=True)
class ServerState:
    """One line of ``show servers state``."""

    backend: str
    name: str
    address: str
    port: int
    op_state: int
    admin_state: int
    weight: int  # the current (user) weight
    initial_weight: int

    @property
    def is_maint(self) -> bool:
        return bool(self.admin_state & MAINT_FLAGS)

    @property
    def is_drain(self) -> bool:
        return bool(self.admin_state & DRAIN_FLAGS)

    @property
    def takes_new_connections(self) -> bool:
        return not (self.is_maint or self.is_drain) and self.weight > 0


class SocketClient:
    """One Unix socket of HAProxy's: one command (or chain) per connection."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        self.path = path
        self.timeout = timeout
        self.commands_sent = 0

    def send(self, command: str) -> str:
        """Send ``command`` and return the whole reply, as text."""
        log.debug("runtime api: socket=%s command=%s", self.path, command)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            try:
                sock.connect(str(self.path))
            except (FileNotFoundError, ConnectionRefusedError) as err:
                raise SocketUnreachableError(self.path, command, str(err)) from err
            sock.sendall(command.encode() + b"\n")
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        except OSError as err:
            raise RuntimeApiError(self.path, command, str(err)) from err
        finally:
            sock.close()
        self.commands_sent += 1
        return b"".join(chunks).decode(errors="replace")

    def is_reachable(self) -> bool:
        try:
            self.send("show info")
        except RuntimeApiError:
            return False
        return True


class RuntimeApi(SocketClient):
    """The worker's stats socket (``level admin``)."""

    def run_ok(self, *commands: str) -> None:
        """Run ``commands`` in one connection; each must answer nothing."""
        chain = "; ".join(commands)
        reply = self.send(chain).strip()
        if reply:
            raise RuntimeApiError(self.path, chain, reply)

    def expect(self, command: str, success: str) -> None:
        reply = self.send(command).strip()
        if reply != success:
            raise RuntimeApiError(self.path, command, reply or "(no reply)")

    def set_weight(self, backend: str, server: str, weight: int) -> None:
        self.run_ok(f"set server {backend}/{server} weight {weight}")

    def set_state(self, backend: str, server: str, state: str) -> None:
        """``state`` is ``ready``, ``drain`` or ``maint``."""
        self.run_ok(f"set server {backend}/{server} state {state}")

    def add_server(
        self, backend: str, server: str, endpoint: str, arguments: list[str]
    ) -> None:
        """Register a server; HAProxy keeps it in maintenance until enabled."""
        words = " ".join([endpoint, *arguments])
        self.expect(f"add server {backend}/{server} {words}", SERVER_ADDED)

    def delete_server(self, backend: str, server: str) -> None:
        self.expect(f"del server {backend}/{server}", SERVER_DELETED)

    def shutdown_sessions(self, backend: str, server: str) -> None:
        self.run_ok(f"shutdown sessions server {backend}/{server}")

    def servers_state(self, backend: str | None = None) -> list[ServerState]:
        """``show servers state``, parsed by the names in its header line."""
        command = f"show servers state {backend}" if backend else "show servers state"
        reply = self.send(command)
        lines = [line for line in reply.splitlines() if line.strip()]
        header = next((line for line in lines if line.startswith("# ")), None)
        if header is None:
            raise RuntimeApiError(self.path, command, reply.strip() or "(no reply)")
        names = header[2:].split()
        states = []
        for line in lines:
            if line.startswith("#") or line.strip() == "1":
                continue
            row = dict(zip(names, line.split(), strict=False))
            states.append(
                ServerState(
                    backend=row["be_name"],
                    name=row["srv_name"],
                    address=row["srv_addr"],
                    port=int(row["srv_port"]),
                    op_state=int(row["srv_op_state"]),
                    admin_state=int(row["srv_admin_state"]),
                    weight=int(row["srv_uweight"]),
                    initial_weight=int(row["srv_iweight"]),
                )
            )
        return states

    def backends(self) -> list[str]:
        """Every backend the running HAProxy has, with servers or without."""
        reply = self.send("show backend")
        lines = reply.splitlines()
        if not lines or lines[0].strip() != "# name":
            raise RuntimeApiError(self.path, "show backend", reply.strip() or "(none)")
        return [line.strip() for line in lines[1:] if line.strip()]

    def state_file_text(self) -> str:
        """``show servers state`` as HAProxy's server-state file wants it."""
        return self.send("show servers state")

    def current_sessions(self, backend: str) -> dict[str, int]:
        """Open sessions per server of ``backend`` (``show stat``'s ``scur``)."""
        command = f"show stat {backend} 4 -1"
        reply = self.send(command)
        lines = reply.splitlines()
        if not lines or not lines[0].startswith("# "):
            raise RuntimeApiError(self.path, command, reply.strip() or "(no reply)")
        names = lines[0][2:].split(",")
        sessions = {}
        for line in lines[1:]:
            if not line.strip():
                continue
            row = dict(zip(names, line.split(","), strict=False))
            sessions[row["svname"]] = int(row["scur"] or 0)
        return sessions


@dataclass(frozen=True)
class ProcessTable:
    """``show proc`` on the master socket: reload counters and worker pids."""

    master_pid: int
    reloads: int
    failed_reloads: int
    workers: tuple[int, ...]
    old_workers: tuple[int, ...]


class MasterApi(SocketClient):
    """The master socket of a master-worker HAProxy (``-S``)."""

    def reload(self) -> None:
        # 2.6 answers nothing and closes; the outcome is read from show proc.
        reply = self.send("reload").strip()
        if reply:
            raise RuntimeApiError(self.path, "reload", reply)

    def show_proc(self) -> ProcessTable:
        reply = self.send("show proc")
        section = ""
        master = reloads = failed = 0
        workers: list[int] = []
        old: list[int] = []
        for line in reply.splitlines():
            if line.startswith("# "):
                section = line[2:].strip()
                continue
            words = line.split()
            if not words or not words[0].isdigit():
                continue
            if words[1] == "master":
                master, reloads = int(words[0]), int(words[2])
                if "[failed:" in words:
                    failed = int(words[words.index("[failed:") + 1].rstrip("]"))
            elif section == "workers":
                workers.append(int(words[0]))
            elif section == "old workers":
                old.append(int(words[0]))
        if not master:
            raise RuntimeApiError(self.path, "show proc", reply.strip() or "(none)")
        return ProcessTable(master, reloads, failed, tuple(workers), tuple(old))
