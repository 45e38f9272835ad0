"""The emulator's action handlers, one module per resource kind.

Importing this package registers every handler with
``slbsync.emulator.registry``. Add a new module to ``ACTION_MODULES``.
"""

from __future__ import annotations

import importlib

ACTION_MODULES = [
    "slbsync.emulator.actions.load_balancers",
    "slbsync.emulator.actions.regions",
    "slbsync.emulator.actions.tags",
    "slbsync.emulator.actions.ecs",
    "slbsync.emulator.actions.acls",
    "slbsync.emulator.actions.certificates",
    "slbsync.emulator.actions.rules",
    "slbsync.emulator.actions.listeners",
    "slbsync.emulator.actions.server_groups",
    "slbsync.emulator.actions.backends",
    "slbsync.emulator.actions.health",
    "slbsync.emulator.actions.master_slave",
]

for _module in ACTION_MODULES:
    importlib.import_module(_module)
