"""A change as the aws-elbv2 target writes it: the call and its parameters.

Ids of resources created in the same run are references
(``{"$ref": "lb:chat"}``) that the applier resolves by name.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from slbsync.diff.changes import (
    Change,
    ChangeOp,
    FieldChange,
    ResourceAddress,
    payload_of,
)
from slbsync.spec.plain import to_plain


def ref(kind: str, *names: str) -> dict[str, str]:
    return {"$ref": f"{kind}:{'/'.join(names)}"}


def change(
    op: ChangeOp,
    address: ResourceAddress,
    action: str,
    params: dict[str, Any],
    *,
    fields: Sequence[FieldChange] = (),
    live_id: str | None = None,
    note: str = "",
    **extra: Any,
) -> Change:
    """A change whose payload holds the call's parameters and context."""
    return Change(
        op=op,
        address=address,
        action=action,
        fields=tuple(fields),
        live_id=live_id,
        payload=payload_of(params=_plain(params), **_plain(extra)),
        note=note,
    )


def _plain(value: Any) -> Any:
    """JSON-compatible: the payload of a saved plan must round-trip."""
    return json.loads(json.dumps(to_plain(value)))
