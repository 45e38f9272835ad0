"""One "rack" of nodes for the burst test: each node registers from its own
thread with its own target (own SDK client), as separate hosts would; the
file lock is shared with the other worker processes.

    python -m tests.membership.burst_worker SPEC LOCK_DIR ID [ID ...]

Prints one line per node: ``ok <id> <steps>`` or ``failed <id> <error>``.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slbsync.membership.group import GroupHandle
from slbsync.membership.register import Membership
from slbsync.spec.load import load_spec
from slbsync.spec.model import Server
from slbsync.targets.registry import make_target


def main() -> None:
    spec_path, lock_dir, *ids = sys.argv[1:]
    spec = load_spec([Path(spec_path)])

    def join(server_id: str) -> str:
        target = make_target(spec.targets[0])
        group = GroupHandle(spec, target, "chat-gateway", "ws-nodes")
        try:
            outcome = Membership(group, lock_dir=Path(lock_dir)).register(
                Server(port=8080, id=server_id)
            )
        except Exception as err:  # reported per node, the others go on
            return f"failed {server_id} {err}"
        return f"ok {server_id} {'; '.join(outcome.steps)}"

    with ThreadPoolExecutor(max_workers=len(ids)) as pool:
        for line in pool.map(join, ids):
            print(line, flush=True)


if __name__ == "__main__":
    main()
