"""References in the aws-elbv2 target's change payloads.

A change is one call (``slbsync.diff.changes.call_change``). Ids of
resources created in the same run are references
(``{"$ref": "lb:chat"}``) that the applier resolves by name.
"""

from __future__ import annotations


def ref(kind: str, *names: str) -> dict[str, str]:
    return {"$ref": f"{kind}:{'/'.join(names)}"}
