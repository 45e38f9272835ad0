"""The actions the official SDK got an answer for in this test run.

Filled by a session fixture in conftest.py, read by test_sdk_coverage.py; a
module of its own so both see the same set (pytest imports conftest.py under
a name of its own).
"""

from __future__ import annotations

# (version, action) of every call the SDK made and got an answer for.
SDK_ANSWERED: set[tuple[str, str]] = set()
